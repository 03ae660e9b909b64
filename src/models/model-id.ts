import { z } from "zod";

// The longest model id any API takes. Real ids (roles, aliases, upstream ids such as
// meta-llama/llama-3.3-70b-instruct) are far shorter; an unbounded one would be written to the ledger on
// every request, echoed in errors and sent back in the x-orchestrator-model header.
export const maxModelIdLength = 256;

// A model id field: a role, an alias or an upstream model id. `required` is the message for a missing or
// mistyped value; an over-long one is refused without being echoed.
export function modelIdSchema(required: string) {
  return z
    .string({ error: required })
    .min(1, "must not be empty")
    .max(maxModelIdLength, `must be at most ${maxModelIdLength} characters`);
}

import { z } from "zod";
import { isUuid, requestIdPattern } from "../core/ids.ts";
import { imageUrlSchema } from "./media-urls.ts";

// HTTP bodies and parameters, validated at the edge. Unknown fields are ignored for forward compatibility.

const requiredString = (what: string) =>
  z.string({
    error: (issue) => (issue.input === undefined ? `is required (${what})` : `must be a string (${what})`),
  });

const uuid = (what: string) =>
  requiredString(what).refine(
    isUuid,
    `must be a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427 (${what})`,
  );

// The spec's example is "optional-session-id": any id a client picks, within a safe alphabet.
export const sessionId = (what: string) =>
  requiredString(what).regex(
    /^[A-Za-z0-9._:-]{1,128}$/,
    `must be 1 to 128 letters, digits or . _ : - (${what})`,
  );

export const chatBodySchema = z.object({
  message: requiredString("the user's message").refine(
    (value) => value.trim().length > 0,
    "must not be empty",
  ),
  session_id: sessionId("the session to continue").optional(),
  context_tokens: z
    .number({ error: "must be a number of tokens" })
    .int("must be a whole number of tokens")
    .min(0, "must not be negative")
    .optional(),
  images: z
    .array(imageUrlSchema, { error: "must be an array of image URLs" })
    .max(16, "at most 16 images per message")
    .optional(),
  stream: z.boolean({ error: "must be true or false" }).optional(),
  // Answer from (and keep in) the response cache even though the model's temperature is above 0.
  cache: z.boolean({ error: "must be true or false" }).optional(),
});

export type ChatBody = z.output<typeof chatBodySchema>;

export const sessionParamsSchema = z.object({ id: sessionId("session id") });
export const workflowParamsSchema = z.object({ id: uuid("workflow id") });
// The x-request-id of a response: the alphabet and length the service keeps a caller's own id to.
export const requestParamsSchema = z.object({
  id: requiredString("request id").regex(
    requestIdPattern,
    "must be 1 to 128 letters, digits or . _ : - (the x-request-id of a response)",
  ),
});

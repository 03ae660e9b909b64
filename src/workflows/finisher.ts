import { clip } from "../core/clip.ts";
import type { ModelClient, RoleCallResult } from "../models/model-client.ts";
import type { RunError } from "../store/store.ts";

const maxCharsPerOutput = 20_000;

// The "finished task" call: the final answer, written from what the workers produced.
export async function writeFinalAnswer(
  models: ModelClient,
  role: string,
  request: string,
  outputs: Readonly<Record<string, string>>,
  options: { signal: AbortSignal; deadline: number },
): Promise<RoleCallResult> {
  const results = Object.entries(outputs)
    .map(([name, output]) => `### ${name}\n${clipOutput(output)}`)
    .join("\n\n");
  return models.call(role, {
    purpose: "finish",
    signal: options.signal,
    deadline: options.deadline,
    messages: [
      {
        role: "system",
        content:
          "You write the final answer to the user's request from the results of a team of AI workers. Present the " +
          "deliverables completely and well organised in Markdown, keeping links to generated images and videos " +
          "as they are. Do not mention the workers or the workflow.",
      },
      { role: "user", content: `Request:\n${request}\n\nResults:\n${results}` },
    ],
  });
}

// The "workers failed" call: tells the user plainly what failed and what to try.
export async function explainFailure(
  models: ModelClient,
  role: string,
  request: string,
  error: RunError,
  completed: readonly string[],
  options: { deadline: number },
): Promise<RoleCallResult> {
  return models.call(role, {
    purpose: "explain_failure",
    deadline: options.deadline,
    messages: [
      {
        role: "system",
        content:
          "A multi-step AI workflow working on the user's request failed. In a few sentences, tell the user plainly " +
          "what failed and why (from the error below), what had been completed, and what they can try next: retry " +
          "later for temporary errors, simplify or split the request, or ask the operator to check the configuration " +
          "for authentication or billing errors. Do not invent results.",
      },
      {
        role: "user",
        content: `Request:\n${clipOutput(request)}\n\nError (${error.type}, ${error.code}): ${error.message}\n\nCompleted steps: ${completed.length > 0 ? completed.join(", ") : "none"}`,
      },
    ],
  });
}

function clipOutput(text: string): string {
  return clip(text, maxCharsPerOutput, "\n[…]");
}

import type { z } from "zod";
import { invalidRequest } from "../core/errors.ts";

// Validates an HTTP input against its schema; the first problem becomes a 400 that names the field.
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  what = "body",
): z.output<Schema> {
  if (what === "body" && (typeof value !== "object" || value === null || Array.isArray(value))) {
    throw invalidRequest("", "the request body must be a JSON object");
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = formatPath(issue?.path ?? []);
  throw invalidRequest(field, issue?.message ?? "is invalid");
}

// `workflow[0].tasks[1].prompt`: the same notation the workflow validator uses in its messages.
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    "",
  );
}

import { z } from "zod";
import { clip } from "../core/clip.ts";
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
  // A field the schema does not know is named as the field itself, not as its parent object.
  if (issue?.code === "unrecognized_keys") {
    const key = clipName(String(issue.keys[0]));
    throw invalidRequest(formatPath([...issue.path, key]), "is not a known field");
  }
  const field = formatPath(issue?.path ?? []);
  throw invalidRequest(field, issue?.message ?? "is invalid");
}

// A documented field the service cannot honour: absent or null passes, anything else is refused saying so
// (rather than "unknown", or being silently ignored).
export function unsupported(reason: string) {
  return z
    .unknown()
    .refine((value) => value === null, `is not supported here: ${reason}`)
    .optional()
    .meta({ type: "null", description: `Not supported here: ${reason}` });
}

// Names taken from a client (an unknown key) are echoed only so far.
function clipName(text: string): string {
  return clip(text, 64, "…");
}

// `workflow[0].tasks[1].prompt`: the same notation the workflow validator uses in its messages.
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    "",
  );
}

// A strict object schema runs every field's schema on every parse, present or not, and a request body type with
// dozens of optional fields (chat completions has 44) mostly arrives with a handful. This picks the schema
// down to the fields a body has, plus the required ones, once per set of fields: the same field schemas, in the
// same order, so the same result and the same first error. A body with a field the schema does not know gets the
// whole schema, and with it the same refusal.
export function schemaForFieldsPresent<Schema extends z.ZodObject>(
  schema: Schema,
  maxVariants = 64,
): (value: unknown) => Schema {
  const shape = schema.shape as Record<string, z.ZodType>;
  const fields = Object.keys(shape);
  const required = new Set(fields.filter((field) => !shape[field]?.isOptional()));
  const variants = new Map<string, Schema>();
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return schema;
    const mask: Record<string, true> = {};
    let known = 0;
    let signature = "";
    for (const field of fields) {
      const present = Object.hasOwn(value, field);
      if (present) known++;
      if (present || required.has(field)) {
        mask[field] = true;
        signature += `${field},`;
      }
    }
    if (known !== Object.keys(value).length) return schema;
    let variant = variants.get(signature);
    if (!variant) {
      if (variants.size >= maxVariants) return schema;
      variant = schema.pick(mask) as unknown as Schema;
      variants.set(signature, variant);
    }
    return variant;
  };
}

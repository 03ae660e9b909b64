// A value that satisfies a JSON schema, built from the schema alone: what the offline mode answers when
// a client asks for structured output or forces a tool call, so the client's own validation passes.
// Covers what clients send (objects, arrays, scalars, enum and const, anyOf/oneOf/allOf, nullable type
// lists, local $ref to $defs/definitions); anything else becomes null.

type Schema = Readonly<Record<string, unknown>>;

const maxDepth = 12;

export function exampleOf(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isSchema(schema) || depth > maxDepth) return null;
  const ref = schema.$ref;
  if (typeof ref === "string") return exampleOf(resolveRef(ref, root), root, depth + 1);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ("default" in schema) return schema.default;
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      // The first option that is not just null, so a nullable field still gets a real value.
      const chosen = options.find((o) => !(isSchema(o) && o.type === "null")) ?? options[0];
      return exampleOf(chosen, root, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged = Object.assign({}, ...schema.allOf.filter(isSchema), { allOf: undefined });
    return exampleOf(merged, root, depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== "null") ?? "null") : schema.type;
  switch (type ?? (isSchema(schema.properties) ? "object" : undefined)) {
    case "object":
      return objectExample(schema, root, depth);
    case "array": {
      // One item shows the shape; past a few levels only what minItems asks for, so recursive schemas end.
      const min = typeof schema.minItems === "number" ? schema.minItems : depth < 3 ? 1 : 0;
      return Array.from({ length: min }, () => exampleOf(schema.items ?? {}, root, depth + 1));
    }
    case "string":
      return stringExample(schema);
    case "integer":
      return numberExample(schema, true);
    case "number":
      return numberExample(schema, false);
    case "boolean":
      return true;
    default:
      return null;
  }
}

function objectExample(schema: Schema, root: unknown, depth: number): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  return Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, exampleOf(property, root, depth + 1)]),
  );
}

function stringExample(schema: Schema): string {
  switch (schema.format) {
    case "date-time":
      return "2025-01-01T00:00:00Z";
    case "date":
      return "2025-01-01";
    case "time":
      return "00:00:00";
    case "email":
      return "simulated@example.com";
    case "uri":
    case "url":
      return "https://example.com/simulated";
    case "uuid":
      return "00000000-0000-4000-8000-000000000000";
    default:
      break;
  }
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Number.POSITIVE_INFINITY;
  return "simulated".padEnd(min, "x").slice(0, Math.max(min, Math.min(max, 9)));
}

function numberExample(schema: Schema, integer: boolean): number {
  const low = [schema.minimum, schema.exclusiveMinimum].find((v) => typeof v === "number") as
    | number
    | undefined;
  const high = [schema.maximum, schema.exclusiveMaximum].find((v) => typeof v === "number") as
    | number
    | undefined;
  let value = low !== undefined ? low + (schema.exclusiveMinimum === low ? 1 : 0) : 0;
  if (high !== undefined && value > high) value = high;
  return integer ? Math.ceil(value) : value;
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith("#")) return undefined;
  let node: unknown = root;
  for (const segment of ref.slice(1).split("/").filter(Boolean)) {
    if (!isSchema(node)) return undefined;
    node = node[segment.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return node;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

import type { Compilable, CompiledQuery } from "kysely";

// A query whose shape never changes, built and compiled to SQL once; each use only puts its values in.
// Kysely builds and compiles a query again on every call, several times the cost of running a small one
// on SQLite, so the store's hot queries (a workflow's task records, its run's row) are prepared here.
//
// `build` receives one placeholder per name and must use each as a plain value (a comparison, a column's
// new value), never where the query's shape depends on it (an `in` list, `is null`). The placeholders are
// typed `never` so that they fit any column; at run time they are unique strings, found again in the
// compiled parameters and replaced by the values given. The query must be built without plugins that
// rewrite it per execution (this store uses none).
export function preparedQuery<Name extends string, Row>(
  names: readonly Name[],
  build: (values: Readonly<Record<Name, never>>) => Compilable<Row>,
): (values: Readonly<Record<Name, unknown>>) => CompiledQuery<Row> {
  const placeholders = new Map(names.map((name) => [`\u0000${name}\u0000`, name]));
  const template = build(
    Object.fromEntries([...placeholders].map(([text, name]) => [name, text])) as Record<Name, never>,
  ).compile();
  const slots = template.parameters.map((value) =>
    typeof value === "string" ? placeholders.get(value) : undefined,
  );
  for (const name of names) {
    if (!slots.includes(name)) throw new Error(`prepared query: "${name}" is not one of its parameters`);
  }
  return (values) => ({
    ...template,
    parameters: slots.map((slot, position) =>
      slot === undefined ? template.parameters[position] : values[slot],
    ),
  });
}

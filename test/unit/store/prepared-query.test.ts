import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import { preparedQuery } from "../../../src/store/prepared-query.ts";
import type { DatabaseSchema } from "../../../src/store/schema.ts";

// Compiles without a database: only the SQL and its parameters are looked at.
const db = new Kysely<DatabaseSchema>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe("prepared query", () => {
  it("compiles once and binds each use's values where its placeholders were, keeping the constants", () => {
    const update = preparedQuery(["id", "status"], (v) =>
      db
        .updateTable("workflow_runs")
        .set({ status: v.status, updated_at: v.status })
        .where("id", "=", v.id)
        .where("kind", "=", "workflow"),
    );
    const first = update({ id: "run-1", status: "completed" });
    const second = update({ id: "run-2", status: 7 });
    const built = db
      .updateTable("workflow_runs")
      .set({ status: "completed", updated_at: "completed" })
      .where("id", "=", "run-1")
      .where("kind", "=", "workflow")
      .compile();
    assert.equal(first.sql, built.sql);
    assert.deepEqual(first.parameters, built.parameters);
    assert.equal(second.sql, first.sql);
    assert.deepEqual(second.parameters, [7, 7, "run-2", "workflow"]);
  });

  it("refuses a placeholder the query does not use as a value, rather than ignore it", () => {
    assert.throws(
      () =>
        preparedQuery(["id", "unused"], (v) =>
          db.selectFrom("workflow_runs").selectAll().where("id", "=", v.id),
        ),
      /"unused" is not one of its parameters/,
    );
  });
});

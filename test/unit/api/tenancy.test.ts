import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ResponseMemory } from "../../../src/api/responses/response-memory.ts";
import { Tenancy } from "../../../src/api/tenancy.ts";
import type { SessionService } from "../../../src/chat/session-service.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { openStore } from "../../../src/store/open-store.ts";
import type { Store } from "../../../src/store/store.ts";
import type { WorkflowService } from "../../../src/workflows/workflow-service.ts";
import { requestEntry } from "../../support/upstream-call.ts";

const fixedClock: Clock = { now: () => 0, isoNow: () => "2026-01-01T00:00:00.000Z" };
const runId = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
const unknownId = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";

// What the scope asked of the services behind it: another client's request must never reach them.
interface Calls {
  readonly workflows: string[];
  readonly sessions: Array<string | undefined>;
  flushes: number;
}

async function rejectsNotFound(work: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof OrchestratorError);
    assert.equal(error.status, 404);
    assert.equal(error.code, "not_found");
    assert.equal(error.message, message);
    return true;
  });
}

describe("Tenancy", () => {
  let store: Store;
  let calls: Calls;
  let tenancy: Tenancy;

  beforeEach(async () => {
    store = await openStore({ dataDir: ".", databaseUrl: ":memory:" }, fixedClock);
    calls = { workflows: [], sessions: [], flushes: 0 };
    const workflows = {
      submit: async (_definition: unknown, options: { owner?: string | null }) => {
        calls.workflows.push(`submit by ${options.owner}`);
        return { id: runId, estimateUsd: 0 };
      },
      waitFor: async (id: string) => void calls.workflows.push(`wait ${id}`),
      cancel: async (id: string) => {
        calls.workflows.push(`cancel ${id}`);
        return true;
      },
      resume: async (id: string) => void calls.workflows.push(`resume ${id}`),
    } as unknown as WorkflowService;
    const sessions = {
      open: async (clientId: string | undefined) => {
        calls.sessions.push(clientId);
        return { session: { id: "s" }, warmupRoles: [] };
      },
      history: async (_id: string, clientId: string | undefined) => {
        calls.sessions.push(clientId);
        return { session: { id: "s" }, messages: [] };
      },
    } as unknown as SessionService;
    tenancy = new Tenancy({
      store,
      workflows,
      sessions,
      ledger: { flush: async () => void calls.flushes++ },
      responses: new ResponseMemory(),
    });
    await store.createRun({ id: runId, sessionId: null, kind: "workflow", request: {}, owner: "alice" });
  });
  afterEach(async () => {
    await store.close();
  });

  it("gives a client its own run, and everyone else the 404 of an unknown id", async () => {
    assert.equal((await tenancy.forClient("alice").run(runId)).id, runId);
    assert.equal((await tenancy.forClient("alice").runWithTasks(runId)).tasks.length, 0);
    const missing = `workflow '${unknownId}' was not found`;
    await rejectsNotFound(tenancy.forClient("alice").run(unknownId), missing);
    for (const other of [tenancy.forClient("bob"), tenancy.forClient(undefined)]) {
      await rejectsNotFound(other.run(runId), `workflow '${runId}' was not found`);
      await rejectsNotFound(other.runWithTasks(runId), `workflow '${runId}' was not found`);
    }
  });

  it("never lets another client's cancel or resume reach the run", async () => {
    const bob = tenancy.forClient("bob");
    await rejectsNotFound(bob.cancelRun(runId), `workflow '${runId}' was not found`);
    await rejectsNotFound(bob.resumeRun(runId), `workflow '${runId}' was not found`);
    assert.deepEqual(calls.workflows, []);

    const alice = tenancy.forClient("alice");
    const { cancelled, run } = await alice.cancelRun(runId);
    assert.equal(cancelled, true);
    assert.equal(run.status, "running");
    await alice.resumeRun(runId);
    assert.deepEqual(calls.workflows, [`cancel ${runId}`, `wait ${runId}`, `resume ${runId}`]);
  });

  it("stamps what a client makes with its id, and nothing in open mode", async () => {
    await tenancy.forClient("alice").submitRun({ stages: [], variables: {} }, {});
    await tenancy.forClient(undefined).submitRun({ stages: [], variables: {} }, {});
    assert.deepEqual(calls.workflows, ["submit by alice", "submit by null"]);

    const saved = await tenancy.forClient("bob").saveArtifact({
      id: unknownId,
      runId: null,
      contentType: "image/png",
      data: new Uint8Array([1]),
      simulated: true,
    });
    assert.equal(saved.owner, "bob");
  });

  it("finds an artifact through its own owner or its run's, for that client only", async () => {
    const fromRun = "11111111-2222-4333-8444-555555555555";
    await store.saveArtifact({
      id: fromRun,
      runId,
      contentType: "image/png",
      data: new Uint8Array([1]),
      simulated: true,
    });
    await tenancy.forClient("bob").saveArtifact({
      id: unknownId,
      runId: null,
      contentType: "image/png",
      data: new Uint8Array([2]),
      simulated: true,
    });
    assert.equal((await tenancy.forClient("alice").artifact(fromRun)).id, fromRun);
    assert.equal((await tenancy.forClient("bob").artifact(unknownId)).id, unknownId);
    await rejectsNotFound(tenancy.forClient("bob").artifact(fromRun), `artifact '${fromRun}' was not found`);
    await rejectsNotFound(
      tenancy.forClient("alice").artifact(unknownId),
      `artifact '${unknownId}' was not found`,
    );
    await rejectsNotFound(
      tenancy.forClient(undefined).artifact(fromRun),
      `artifact '${fromRun}' was not found`,
    );
  });

  it("scopes session ids and sessions to the client", async () => {
    assert.equal(tenancy.forClient("alice").sessionId("mine"), "alice/mine");
    assert.equal(tenancy.forClient(undefined).sessionId("mine"), "mine");
    await tenancy.forClient("alice").openSession();
    await tenancy.forClient("bob").session("mine");
    await tenancy.forClient(undefined).session("mine");
    assert.deepEqual(calls.sessions, ["alice", "bob", undefined]);
  });

  it("keeps each client's stored responses apart", () => {
    tenancy.forClient("alice").responses.remember("resp_1", [{ role: "user", content: "hi" }], new Map());
    assert.ok(tenancy.forClient("alice").responses.conversation("resp_1"));
    assert.equal(tenancy.forClient("bob").responses.conversation("resp_1"), undefined);
    assert.equal(tenancy.forClient(undefined).responses.conversation("resp_1"), undefined);
  });

  it("reads a request record after writing waiting rows, and an unknown or other's one is not found", async () => {
    await store.usage.recordRequests([requestEntry({ clientId: "alice" })]);
    assert.equal((await tenancy.forClient("alice").requestRecord("req-1")).requests.length, 1);
    assert.equal(calls.flushes, 1);
    await rejectsNotFound(tenancy.forClient("bob").requestRecord("req-1"), "request 'req-1' was not found");
    await rejectsNotFound(
      tenancy.forClient(undefined).requestRecord("req-1"),
      "request 'req-1' was not found",
    );
    await rejectsNotFound(tenancy.forClient("alice").requestRecord("req-2"), "request 'req-2' was not found");
  });
});

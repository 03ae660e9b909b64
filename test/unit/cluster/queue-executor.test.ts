import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Queue } from "bullmq";
import type { AdvanceJobData, CancelMessage } from "../../../src/cluster/jobs.ts";
import { QueueExecutor } from "../../../src/cluster/queue-executor.ts";
import type { RedisChannel } from "../../../src/cluster/redis-channel.ts";
import type { Clock } from "../../../src/core/clock.ts";
import { runWithContext } from "../../../src/core/request-context.ts";
import type { Store } from "../../../src/store/store.ts";
import { WorkflowEvents } from "../../../src/workflows/workflow-events.ts";

const clock: Clock = { now: () => 1_000, isoNow: () => "2026-11-25T10:00:00.000Z" };

// An executor whose queue keeps the jobs it is given.
function executorKeepingJobs() {
  const jobs: AdvanceJobData[] = [];
  const executor = new QueueExecutor({
    queue: { add: async (_name: string, data: AdvanceJobData) => jobs.push(data) } as unknown as Queue,
    cancels: {} as RedisChannel<CancelMessage>,
    events: new WorkflowEvents(undefined),
    store: { claimRun: async () => true } as unknown as Store,
    clock,
    leaseMs: 30_000,
  });
  return { executor, jobs };
}

describe("queue executor: whose calls a run's jobs make", () => {
  it("carries the run's owner on its job when a recovery sweep, with no client, starts it", async () => {
    const { executor, jobs } = executorKeepingJobs();
    await executor.start({
      id: "run-1",
      expectedAttempt: "a1",
      timeoutMs: 60_000,
      recovering: true,
      owner: "alice-id",
    });
    assert.equal(jobs[0]?.context.clientId, "alice-id");
  });

  it("charges the run's owner, not whoever starts it", async () => {
    const { executor, jobs } = executorKeepingJobs();
    await runWithContext({ requestId: "r", endpoint: "/workflow", clientId: "bob-id" }, () =>
      executor.start({ id: "run-2", expectedAttempt: null, timeoutMs: 60_000, owner: "alice-id" }),
    );
    assert.equal(jobs[0]?.context.clientId, "alice-id");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunRecord, TaskRecord, TaskStatus } from "../../../src/store/store.ts";
import { nextStep } from "../../../src/workflows/run-rules.ts";
import type { WorkflowDefinition } from "../../../src/workflows/workflow-schema.ts";

const task = (output: string) => ({ model: "medium_ai", prompt: output, output_variable: output });
const definition: WorkflowDefinition = {
  stages: [
    { type: "linear", tasks: [task("a"), task("b"), task("c")] },
    { type: "inline", tasks: [task("d"), task("e")] },
  ],
  variables: {},
};

const run = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  id: "r",
  sessionId: null,
  kind: "workflow",
  status: "running",
  request: {},
  result: null,
  error: null,
  model: null,
  usage: null,
  createdAt: "",
  updatedAt: "",
  finishedAt: null,
  workflow: definition,
  attempt: "now",
  leaseOwner: null,
  leaseExpiresAt: null,
  recoveries: 0,
  owner: null,
  estimateUsd: null,
  ...overrides,
});

const record = (stage: number, index: number, status: TaskStatus, attempt = "now"): TaskRecord => ({
  runId: "r",
  stage,
  index,
  role: "medium_ai",
  model: "m",
  outputVariable: "abcde"[stage * 3 + index] ?? "?",
  status,
  output: status === "completed" ? `out ${stage}.${index}` : null,
  error: status === "failed" ? { type: "persistent", code: "bad", message: "it broke" } : null,
  usage: status === "completed" ? { promptTokens: 1, completionTokens: 2, costUsd: 0.5 } : null,
  startedAt: null,
  finishedAt: null,
  attempt,
});

const started = (step: ReturnType<typeof nextStep>) =>
  step.kind === "start" ? step.tasks.map((t) => `${t.stage}.${t.index}@${t.attempt}`) : step.kind;

describe("run rules", () => {
  it("plans a run that has no workflow yet", () => {
    assert.equal(nextStep(run({ workflow: null }), []).kind, "plan");
  });

  it("starts a linear stage's tasks together, skipping those finished or in flight", () => {
    assert.deepEqual(started(nextStep(run(), [])), ["0.0@now", "0.1@now", "0.2@now"]);
    assert.deepEqual(
      started(nextStep(run(), [record(0, 0, "completed"), record(0, 1, "running")], new Set(["0:2"]))),
      "wait",
    );
    assert.deepEqual(started(nextStep(run(), [record(0, 0, "completed")], new Set(["0:1"]))), ["0.2@now"]);
  });

  it("runs an inline stage one task after another, once the stage before is complete", () => {
    const linearDone = [record(0, 0, "completed"), record(0, 1, "completed"), record(0, 2, "completed")];
    assert.deepEqual(started(nextStep(run(), linearDone)), ["1.0@now"]);
    assert.equal(nextStep(run(), [...linearDone, record(1, 0, "running")]).kind, "wait");
    assert.deepEqual(started(nextStep(run(), [...linearDone, record(1, 0, "completed")])), ["1.1@now"]);
  });

  it("fails the run on a task that failed in this attempt, once its siblings in flight have ended", () => {
    const failed = [record(0, 0, "failed"), record(0, 1, "completed")];
    assert.equal(nextStep(run(), [...failed, record(0, 2, "running")]).kind, "wait");
    const step = nextStep(run(), [...failed, record(0, 2, "completed")]);
    assert.equal(step.kind, "fail");
    assert.equal(step.kind === "fail" && step.error.code, "bad");
  });

  it("runs again what an earlier attempt left failed or running (a resume, a recovery after a crash)", () => {
    const tasks = [
      record(0, 0, "failed", "before"),
      record(0, 1, "running", "before"),
      record(0, 2, "completed"),
    ];
    assert.deepEqual(started(nextStep(run(), tasks)), ["0.0@now", "0.1@now"]);
  });

  it("completes with every output and the tasks' usage summed", () => {
    const all = [0, 1, 2]
      .map((i) => record(0, i, "completed"))
      .concat([0, 1].map((i) => record(1, i, "completed")));
    const step = nextStep(run(), all);
    assert.equal(step.kind, "complete");
    if (step.kind !== "complete") return;
    assert.deepEqual(Object.keys(step.outputs).sort(), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(step.usage, { promptTokens: 5, completionTokens: 10, costUsd: 2.5 });
  });
});

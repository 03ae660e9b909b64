import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { lastUserText, workerResponder } from "../support/responders.ts";

const task = (prompt: string, output: string) => ({ model: "medium_ai", prompt, output_variable: output });
const linear = (...prompts: string[]) => [
  { type: "linear", tasks: prompts.map((prompt, i) => task(prompt, `t${i}`)) },
];
const statuses = (body: { tasks: { status: string }[] }) => body.tasks.map((t) => t.status).sort();

// Workflow tasks wait for a slot of their model as plain records and start only once granted one.
describe("workflow tasks waiting for model slots", () => {
  const app = useFakeOpenRouterApp({
    config: {
      queuing: { maxConcurrentCallsPerModel: 2 },
      models: { medium_ai: { fallbacks: [] } },
    },
    respond: workerResponder,
  });

  const metric = async (line: RegExp) => {
    const text = await (await fetch(`${app.t.url}/metrics`)).text();
    return Number(line.exec(text)?.[1] ?? Number.NaN);
  };
  const slotsIdle = async () =>
    (await metric(/^orchestrator_upstream_calls_running (\S+)$/m)) === 0 &&
    (await metric(/^orchestrator_upstream_queue_waiting\{priority="medium"\} (\S+)$/m)) === 0
      ? true
      : undefined;

  it("starts no more tasks than the model has slots; the others wait unstarted and start as slots free", async () => {
    const res = await app.t.post("/workflow", {
      async: true,
      workflow: linear("a [wait 300]", "b [wait 300]", "c [wait 300]", "d [wait 300]", "e [wait 300]"),
    });
    const id = res.body.workflow_id;
    await eventually("the first two tasks' calls", async () =>
      app.fake.requests.length === 2 ? true : undefined,
    );
    const early = await app.t.get(`/workflow/${id}`);
    assert.deepEqual(statuses(early.body), ["running", "running", "waiting", "waiting", "waiting"]);
    assert.equal(await metric(/^orchestrator_upstream_queue_waiting\{priority="medium"\} (\S+)$/m), 3);
    const done = await eventually("the run to complete", async () => {
      const record = await app.t.get(`/workflow/${id}`);
      return record.body.status === "completed" ? record : undefined;
    });
    assert.equal(done.body.outputs.t4, "done: e [wait 300]");
    assert.equal(app.fake.requests.length, 5);
    await eventually("every slot to be free", slotsIdle);
  });

  it("a cancelled run drops its waiting tasks: they never start, and every slot is given back", async () => {
    const res = await app.t.post("/workflow", {
      async: true,
      workflow: linear("[hang] a", "[hang] b", "c", "d"),
    });
    await eventually("the first two tasks' calls", async () =>
      app.fake.requests.length === 2 ? true : undefined,
    );
    const cancelled = await app.t.delete(`/workflow/${res.body.workflow_id}`);
    assert.equal(cancelled.body.status, "cancelled");
    assert.deepEqual(statuses(cancelled.body), ["cancelled", "cancelled", "waiting", "waiting"]);
    await eventually("every slot to be free", slotsIdle);
    // Only the run's own loop starts its tasks: once this process drives no run, none of them can start.
    await eventually(
      "the cancelled run to stop",
      async () => (await metric(/^orchestrator_workflows_running (\S+)$/m)) === 0,
    );
    assert.equal(app.fake.requests.length, 2, "the waiting tasks were never sent");
    const after = await app.t.post("/workflow", { workflow: linear("e", "f") });
    assert.equal(after.body.status, "completed", "the slots are free for the next run");
  });

  it("a run that times out while tasks wait fails with its timeout, and its waiting tasks never start", async () => {
    const res = await app.t.post("/workflow", {
      timeout_seconds: 0.5,
      workflow: linear("[hang] a", "[hang] b", "c", "d"),
    });
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.error.code, "workflow_timeout");
    await eventually("every slot to be free", slotsIdle);
    assert.equal(app.fake.requests.length, 2, "the waiting tasks were never sent");
    const record = await app.t.get(`/workflow/${res.body.workflow_id}`);
    assert.ok(
      record.body.tasks.every((v: { status: string }) => v.status !== "running" && v.status !== "completed"),
    );
  });

  it("a chat call waiting with queued tasks is served first as a slot frees (high before medium)", async () => {
    const res = await app.t.post("/workflow", {
      async: true,
      // b never ends: one slot frees (a's), and whoever it goes to must end before c can start.
      workflow: linear("a [wait 1500]", "[hang] b", "c", "d"),
    });
    await eventually("the first two tasks' calls", async () =>
      app.fake.requests.length === 2 ? true : undefined,
    );
    const chat = app.t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "user", content: "a question" }],
    });
    // The chat call waits for a slot together with the two queued tasks.
    await eventually("the question to wait for a slot", async () =>
      (await metric(/^orchestrator_upstream_queue_waiting\{priority="high"\} (\S+)$/m)) === 1
        ? true
        : undefined,
    );
    assert.equal((await chat).status, 200);
    await eventually("the question's call", async () => (app.fake.requests.length >= 4 ? true : undefined));
    const order = app.fake.requests.map((r) => lastUserText(r));
    assert.equal(order[2], "a question", `served when the first slot freed: ${order.join(" | ")}`);
    await app.t.delete(`/workflow/${res.body.workflow_id}`);
    await eventually("every slot to be free", slotsIdle);
  });
});

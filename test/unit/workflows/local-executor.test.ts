import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { type ChatRequest, textOf } from "../../../src/providers/chat-provider.ts";
import type { WorkflowDefinition, WorkflowStage } from "../../../src/workflows/workflow-schema.ts";
import {
  fail,
  gated,
  InMemoryChatProvider,
  type ScriptedReply,
  text,
} from "../../support/in-memory-provider.ts";
import { type InMemoryServices, inMemoryServices } from "../../support/in-memory-services.ts";

// The local executor and the workflow engine together, run by the workflow service as the app runs them,
// against an in-memory provider: which task is asked when, what it is told, and how a run ends.

const task = (prompt: string, output: string) => ({ model: "fast_ai", prompt, output_variable: output });
const workflow = (...stages: WorkflowStage[]): WorkflowDefinition => ({ stages, variables: {} });
const promptOf = (request: ChatRequest) => textOf(request.messages.at(-1)?.content ?? "");

// Each task answers "did: <its prompt>" unless `special` says otherwise; the log shows who was asked and
// who answered, in order.
function echoProvider(special: (prompt: string) => ScriptedReply | undefined = () => undefined) {
  const log: string[] = [];
  const provider = new InMemoryChatProvider((request) => {
    const prompt = promptOf(request);
    log.push(`asked ${prompt}`);
    return special(prompt) ?? text(`did: ${prompt}`);
  });
  return { provider, log };
}

describe("LocalExecutor and WorkflowEngine", () => {
  let services: InMemoryServices;
  afterEach(() => services.close());

  async function run(definition: WorkflowDefinition) {
    const { id } = await services.workflows.submit(definition, {});
    await services.workflows.waitFor(id);
    const stored = await services.store.getRun(id);
    assert.ok(stored);
    return { id, run: stored, tasks: await services.store.listTasks(id) };
  }

  it("starts a linear stage's tasks together and passes each output on to the next stage", async () => {
    let bAsked: () => void = () => {};
    const bWasAsked = new Promise<void>((resolve) => {
      bAsked = resolve;
    });
    // A answers only once B has been asked: run one after another, the stage would never end.
    const { provider } = echoProvider((prompt) => {
      if (prompt === "B") bAsked();
      return prompt === "A" ? gated(bWasAsked, text("did: A")) : undefined;
    });
    services = await inMemoryServices({ provider });
    const { run: done } = await run(
      workflow(
        { type: "linear", tasks: [task("A", "a"), task("B", "b")] },
        {
          type: "linear",
          tasks: [task("join {a} and {b}", "joined")],
        },
      ),
    );
    assert.equal(done.status, "completed");
    const last = provider.requests.at(-1);
    assert.ok(last);
    assert.match(promptOf(last), /join did: A and did: B/);
    assert.ok(done.usage && done.usage.promptTokens === 30, "the run's usage is its three tasks'");
  });

  it("runs an inline stage's tasks one after another, each seeing the run's variables and the task before", async () => {
    const { provider, log } = echoProvider();
    services = await inMemoryServices({ provider });
    const { run: done, tasks } = await run({
      ...workflow({
        type: "inline",
        tasks: [task("first on {topic}", "one"), task("second after {one}", "two")],
      }),
      variables: { topic: "tides" },
    });
    assert.equal(done.status, "completed");
    assert.deepEqual(log, ["asked first on tides", "asked second after did: first on tides"]);
    assert.deepEqual(
      tasks.map((t) => [t.outputVariable, t.status]),
      [
        ["one", "completed"],
        ["two", "completed"],
      ],
    );
  });

  it("fails the run when a task fails, and starts nothing after it", async () => {
    const refused = new OrchestratorError({
      kind: "logical",
      code: "content_filtered",
      status: 400,
      message: "refused",
    });
    const { provider, log } = echoProvider((prompt) => (prompt === "doomed" ? fail(refused) : undefined));
    services = await inMemoryServices({ provider });
    const { run: done } = await run(
      workflow(
        { type: "inline", tasks: [task("doomed", "x")] },
        { type: "inline", tasks: [task("later", "y")] },
      ),
    );
    assert.equal(done.status, "failed");
    assert.equal(done.error?.code, "content_filtered");
    assert.ok(!log.includes("asked later"), "the next stage never started");
  });

  it("stops the task in flight when the run is cancelled, and starts nothing after it", async () => {
    const { provider, log } = echoProvider((prompt) => (prompt === "slow" ? { kind: "hang" } : undefined));
    services = await inMemoryServices({ provider });
    const { id } = await services.workflows.submit(
      workflow({ type: "inline", tasks: [task("slow", "x"), task("later", "y")] }),
      {},
    );
    const inFlight = await provider.asked((request) => promptOf(request) === "slow");
    assert.equal(await services.workflows.cancel(id), true);
    await services.workflows.waitFor(id);
    assert.equal(inFlight.signal?.aborted, true, "the slow task's call was aborted");
    assert.equal((await services.store.getRun(id))?.status, "cancelled");
    assert.ok(!log.includes("asked later"));
  });
});

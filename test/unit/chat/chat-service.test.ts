import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ChatRequest } from "../../../src/providers/chat-provider.ts";
import { gated, InMemoryChatProvider, type ScriptedReply, text } from "../../support/in-memory-provider.ts";
import { type InMemoryServices, inMemoryServices } from "../../support/in-memory-services.ts";

// The /chat pipeline (pre-route, categorize, answer, escalate, orchestrate) with the real model client and
// workflow service behind it, against an in-memory provider.

const model = {
  categorizer: "meta-llama/llama-3.1-8b-instruct",
  fast: "openai/gpt-oss-safeguard-20b",
  medium: "meta-llama/llama-3.3-70b-instruct",
  thinking: "moonshotai/kimi-k2.6",
};

const plan = {
  workflow: [{ type: "linear", tasks: [{ model: "fast_ai", prompt: "do it", output_variable: "x" }] }],
};

// Answers by what the call is for: the categorizer with `label`, answers with "answer from <model>", and an
// H request's acknowledgement, plan, task and final answer with fitting text.
function byPurpose(
  label: string,
  overrides: (request: ChatRequest) => ScriptedReply | undefined = () => undefined,
) {
  return new InMemoryChatProvider((request) => {
    const special = overrides(request);
    if (special) return special;
    switch (request.purpose) {
      case "categorize":
        return text(label, { completionTokens: 1 });
      case "plan":
        return text(JSON.stringify(plan));
      case "acknowledge":
        return text("On it: a workflow is working on your request.");
      default:
        return text(`answer from ${request.model}`);
    }
  });
}

const purposes = (provider: InMemoryChatProvider) => provider.requests.map((r) => `${r.purpose} ${r.model}`);

describe("ChatService", () => {
  let services: InMemoryServices;
  afterEach(() => services.close());

  it("picks the thinking role by a pre-routing rule, without asking the categorizer", async () => {
    const provider = byPurpose("M");
    services = await inMemoryServices({ provider });
    const reply = await services.chat.chat({ message: "summarise all this", contextTokens: 150_000 });
    assert.equal(reply.role, "thinking_ai");
    assert.equal(reply.model, model.thinking);
    assert.equal(reply.category, null);
    assert.deepEqual(purposes(provider), [`answer ${model.thinking}`]);
  });

  it("routes by the categorizer's label and counts both calls in the reply's usage", async () => {
    const provider = byPurpose("M");
    services = await inMemoryServices({ provider });
    const reply = await services.chat.chat({ message: "Explain how tides work." });
    assert.equal(reply.category, "M");
    assert.equal(reply.role, "medium_ai");
    assert.equal(reply.response, `answer from ${model.medium}`);
    assert.equal(reply.routing.rule, "category");
    assert.deepEqual(purposes(provider), [`categorize ${model.categorizer}`, `answer ${model.medium}`]);
    assert.equal(reply.usage.promptTokens, 20);
  });

  describe("with speculation on", () => {
    const speculating = { routing: { speculate: { enabled: true, category: "M" } } };

    // The categorizer answers only once the likely route's call has started: alongside, not before it.
    function afterMediumAsked(label: string, medium: ScriptedReply) {
      let provider: InMemoryChatProvider | undefined;
      provider = byPurpose(label, (request) => {
        if (request.purpose === "categorize" && provider) {
          const asked = provider.asked((r) => r.model === model.medium);
          return gated(asked, text(label, { completionTokens: 1 }));
        }
        return request.model === model.medium ? medium : undefined;
      });
      return provider;
    }

    it("uses the speculative answer when the label confirms its route", async () => {
      const provider = afterMediumAsked("M", text("answer from medium"));
      services = await inMemoryServices({ provider, config: speculating });
      const reply = await services.chat.chat({ message: "Explain how tides work." });
      assert.equal(reply.routing.speculation, "confirmed");
      assert.equal(reply.response, "answer from medium");
      assert.equal(provider.requestsTo(model.medium).length, 1, "the answer was not asked for twice");
      assert.equal((await services.speculationWaste()).calls, 0);
    });

    it("aborts the speculative call when the label refutes it, and records it as speculative waste", async () => {
      const provider = afterMediumAsked("L", { kind: "hang" });
      services = await inMemoryServices({ provider, config: speculating });
      const reply = await services.chat.chat({ message: "Prove there are infinitely many primes." });
      assert.equal(reply.routing.speculation, "refuted");
      assert.equal(reply.role, "thinking_ai");
      const [speculative] = provider.requestsTo(model.medium);
      assert.equal(speculative?.signal?.aborted, true, "the refuted call was aborted");
      assert.ok(services.calls.some((c) => c.purpose === "speculative" && c.costSource === "estimate"));
      assert.equal((await services.speculationWaste()).calls, 1, "the ledger row is marked speculative");
    });
  });

  it("escalates an empty answer to the next category up the ladder", async () => {
    const provider = byPurpose("M", (request) => (request.model === model.medium ? text("") : undefined));
    services = await inMemoryServices({ provider });
    const reply = await services.chat.chat({ message: "Explain how tides work." });
    assert.equal(reply.role, "thinking_ai");
    assert.equal(reply.response, `answer from ${model.thinking}`);
    assert.deepEqual(purposes(provider), [
      `categorize ${model.categorizer}`,
      `answer ${model.medium}`,
      `answer ${model.thinking}`,
    ]);
  });

  it("hands an H request to the workflow service and acknowledges it at once", async () => {
    const provider = byPurpose("H");
    services = await inMemoryServices({ provider });
    const reply = await services.chat.chat({ message: "Research, outline and write a report on tides." });
    assert.equal(reply.category, "H");
    assert.match(reply.response, /workflow is working/);
    assert.ok(reply.workflowId, "the reply names the workflow");
    await services.workflows.waitFor(reply.workflowId);
    const run = await services.store.getRun(reply.workflowId);
    assert.equal(run?.status, "completed");
    assert.ok(provider.requests.some((r) => r.purpose === "plan"));
    assert.ok(provider.requests.some((r) => r.purpose === "task"));
  });
});

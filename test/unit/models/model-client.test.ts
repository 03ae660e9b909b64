import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { OrchestratorError } from "../../../src/core/errors.ts";
import type { ModelClient, RoleCall, RoleCallResult } from "../../../src/models/model-client.ts";
import { fail, InMemoryChatProvider, text } from "../../support/in-memory-provider.ts";
import { type InMemoryServices, inMemoryServices } from "../../support/in-memory-services.ts";

const fast = { primary: "openai/gpt-oss-safeguard-20b", fallback: "openai/gpt-oss-20b" };
const thinking = "moonshotai/kimi-k2.6";

const question: RoleCall = { messages: [{ role: "user", content: "What is 2+2?" }], purpose: "answer" };

const transient = () =>
  new OrchestratorError({ kind: "transient", code: "upstream_unavailable", status: 503, message: "down" });
const logical = () =>
  new OrchestratorError({ kind: "logical", code: "content_filtered", status: 400, message: "refused" });

// The same role call, made whole or streamed: both must behave alike.
const ways: Record<string, (models: ModelClient, role: string, call: RoleCall) => Promise<RoleCallResult>> = {
  call: (models, role, call) => models.call(role, call),
  stream: async (models, role, call) => {
    let text = "";
    for await (const event of models.stream(role, call)) {
      if (event.type === "delta") text += event.text;
      if (event.type === "done") {
        assert.equal(text, event.result.content, "the streamed text is the answer's");
        return event.result;
      }
    }
    throw new Error("the stream ended without a result");
  },
};

for (const [way, ask] of Object.entries(ways)) {
  describe(`ModelClient.${way}`, () => {
    let services: InMemoryServices;
    afterEach(() => services.close());

    it("falls back to the role's next model when its own fails with a transient error", async () => {
      const provider = new InMemoryChatProvider((request) =>
        request.model === fast.primary ? fail(transient()) : text("4"),
      );
      services = await inMemoryServices({ provider });
      const result = await ask(services.models, "fast_ai", question);
      assert.equal(result.content, "4");
      assert.equal(result.model, fast.fallback);
      assert.equal(result.fallbackFrom, fast.primary);
      assert.ok(provider.requestsTo(fast.primary).length >= 1);
      assert.ok(services.time.sleeps.length > 0, "the primary's tries were retried with backoff first");
      assert.ok(services.calls.some((c) => c.model === fast.primary && c.outcome === "transient"));
    });

    it("does not fall back on a logical error: another model would be refused the same", async () => {
      const provider = new InMemoryChatProvider((request) =>
        request.model === fast.primary ? fail(logical()) : text("4"),
      );
      services = await inMemoryServices({ provider });
      await assert.rejects(ask(services.models, "fast_ai", question), { code: "content_filtered" });
      assert.equal(provider.requestsTo(fast.primary).length, 1, "a logical error is not retried");
      assert.equal(provider.requestsTo(fast.fallback).length, 0);
    });

    it("asks a model that spent its room reasoning once more, with more room, and adds both tries' usage", async () => {
      const provider = new InMemoryChatProvider().script(
        thinking,
        text("", {
          finishReason: "length",
          promptTokens: 100,
          completionTokens: 2000,
          reasoningTokens: 2000,
        }),
        text("the answer", { promptTokens: 100, completionTokens: 300, reasoningTokens: 200 }),
      );
      services = await inMemoryServices({
        provider,
        config: { models: { thinking_ai: { maxOutputTokens: 1000 } } },
      });
      const result = await ask(services.models, "thinking_ai", question);
      assert.equal(result.content, "the answer");
      const [first, second] = provider.requestsTo(thinking);
      assert.ok(first?.maxTokens !== undefined && second?.maxTokens !== undefined);
      assert.ok(
        second.maxTokens >= 2 * first.maxTokens,
        `${second.maxTokens} is at least twice ${first.maxTokens}`,
      );
      assert.equal(result.usage.promptTokens, 200);
      assert.equal(result.usage.completionTokens, 2300);
      assert.equal(result.usage.reasoningTokens, 2200);
    });

    it("fails clearly, never with a silent empty answer, when the second try is empty too", async () => {
      const empty = text("", { finishReason: "length", completionTokens: 1000 });
      const provider = new InMemoryChatProvider().script(thinking, empty, empty);
      services = await inMemoryServices({
        provider,
        config: { models: { thinking_ai: { fallbacks: [] } } },
      });
      await assert.rejects(ask(services.models, "thinking_ai", question), { code: "empty_answer" });
      assert.equal(provider.requestsTo(thinking).length, 2);
    });
  });
}

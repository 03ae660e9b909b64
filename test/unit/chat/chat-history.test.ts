import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ChatMessage } from "../../../src/providers/chat-provider.ts";
import { baselineCost } from "../../../src/telemetry/baseline-cost.ts";
import { InMemoryChatProvider, text } from "../../support/in-memory-provider.ts";
import { type InMemoryServices, inMemoryServices } from "../../support/in-memory-services.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

// What a session's turn sends under sessions.history, against an in-memory provider.

const medium = "meta-llama/llama-3.3-70b-instruct";

function provider() {
  let summaries = 0;
  return new InMemoryChatProvider((request) => {
    switch (request.purpose) {
      case "categorize":
        return text("M", { completionTokens: 1 });
      case "summarize":
        summaries++;
        return text(`summary ${summaries}`);
      default:
        return text(`answer ${request.messages.length}`);
    }
  });
}

// About 50 tokens.
const question = (n: number) => `question ${n}: ${"what about the tides and the boats? ".repeat(5)}`;

const plain = (messages: readonly ChatMessage[]) => messages.map((m) => `${m.role}:${String(m.content)}`);

describe("a session's history as the model sees it", () => {
  let services: InMemoryServices;
  afterEach(() => services.close());

  it("sends the summary and the window as a stable prefix, each ending in a cache breakpoint", async () => {
    const upstream = provider();
    services = await inMemoryServices({
      provider: upstream,
      config: { sessions: { history: { maxTokens: 400 } } },
    });
    let previous: readonly ChatMessage[] | undefined;
    let previousSummary: string | undefined;
    let stableTurns = 0;
    for (let n = 1; n <= 40; n++) {
      await services.chat.chat({ sessionId: "s", message: question(n) });
      await services.summarizer.settled();
      const answer = upstream.requests.filter((r) => r.purpose === "answer").at(-1);
      assert.ok(answer);
      const sent = answer.messages;
      const user = sent.at(-1);
      assert.equal(user?.content, question(n));
      assert.equal(user?.cacheControl, undefined);
      const summary = sent[0]?.role === "system" ? sent[0] : undefined;
      if (summary) assert.deepEqual(summary.cacheControl, { type: "ephemeral" });
      const window = sent.slice(summary ? 1 : 0, -1);
      if (window.length > 0) {
        assert.deepEqual(window.at(-1)?.cacheControl, { type: "ephemeral" });
        assert.ok(window.slice(0, -1).every((m) => m.cacheControl === undefined));
      }
      // While the summary stays, the previous turn's prompt (its message included) begins this one.
      const summaryText = summary ? String(summary.content) : undefined;
      if (previous && summaryText === previousSummary) {
        assert.deepEqual(plain(sent).slice(0, previous.length), plain(previous));
        stableTurns++;
      }
      previous = sent;
      previousSummary = summaryText;
    }
    assert.match(previousSummary ?? "", /summary \d+$/, "a summary was sent");
    assert.ok(stableTurns > 25, `the prefix stayed for ${stableTurns} of 40 turns`);
    const summarizeCalls = services.calls.filter((call) => call.purpose === "summarize");
    assert.ok(summarizeCalls.length >= 3);
    assert.ok(upstream.requests.filter((r) => r.purpose === "summarize").every((r) => r.model !== medium));
  });

  it("counts summaries as the history policy's overhead: their cost, never a baseline", () => {
    const thinking = { pricing: { inputPerMillion: 1, outputPerMillion: 4 } };
    const call = upstreamCall({
      purpose: "summarize",
      promptTokens: 1_000,
      completionTokens: 100,
      costUsd: 0.0001,
    });
    assert.equal(baselineCost(call, thinking as never), 0);
    assert.ok(baselineCost({ ...call, purpose: "answer" }, thinking as never) > 0);
  });
});

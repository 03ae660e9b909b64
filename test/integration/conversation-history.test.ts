import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { estimateTokens } from "../../src/tokens/token-counter.ts";
import { type FakeOpenRouter, type RecordedRequest, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { lastUserText, models, systemText } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const maxTokens = 2_000;
const turns = 300;

// About 110 tokens: with the answer, a turn is some 130 tokens, so the window passes maxTokens every
// few turns and a 300-turn conversation holds some 20 windows.
const message = (turn: number) =>
  `turn-${turn}: ${"Tell me a little more about the harbour, the boats and the weather there. ".repeat(6)}`;

const isSummarizer = (request: RecordedRequest) =>
  /running summary of a conversation/.test(systemText(request));

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : (content as Array<{ text?: string }>).map((part) => part.text ?? "").join("");

// The turn markers a summarizer call was asked to fold in (the fenced "turns" section of its prompt).
const foldedTurns = (request: RecordedRequest): number[] => {
  const prompt = lastUserText(request);
  const section = prompt.slice(prompt.indexOf("Turns to fold in:"));
  return [...section.matchAll(/^user: turn-(\d+):/gm)].map((m) => Number(m[1]));
};

// A conversation of some 150k tokens, stored as earlier turns would have stored it.
async function longConversation(t: TestApp): Promise<string> {
  const opened = await t.post("/sessions", {});
  const sessionId = opened.body.session_id as string;
  const long = "The report says the harbour was rebuilt twice. ".repeat(440);
  for (let turn = 0; turn < 15; turn++) {
    await t.app.store.appendMessages(sessionId, [
      { role: "user", content: `${turn}: ${long}`, tokens: estimateTokens(long) },
      { role: "assistant", content: `${turn}: ${long}`, tokens: estimateTokens(long) },
    ]);
  }
  return sessionId;
}

const plainQuestion = "thanks, and what time is it in Tokyo?";

interface Upstream {
  failSummaries: boolean;
  summaries: number;
}

function conversationResponder(upstream: Upstream) {
  return (request: RecordedRequest) => {
    if (request.body.model === models.categorizer) {
      return { kind: "text" as const, content: "M", promptTokens: 50, completionTokens: 1, cost: 0.000001 };
    }
    if (isSummarizer(request)) {
      if (upstream.failSummaries) return { kind: "error" as const, status: 400, message: "summary refused" };
      upstream.summaries++;
      return { kind: "text" as const, content: `summary number ${upstream.summaries}`, cost: 0.00001 };
    }
    return {
      kind: "text" as const,
      content: `answer from ${request.body.model}`,
      promptTokens: 100,
      completionTokens: 5,
      cost: 0.0001,
    };
  };
}

describe("a long conversation under the history policy", () => {
  let t: TestApp;
  let fake: FakeOpenRouter;
  let dir: string;
  const upstream: Upstream = { failSummaries: false, summaries: 0 };
  const config = { sessions: { history: { maxTokens } }, routing: { warmup: { enabled: false } } };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "conversation-history-"));
    fake = await startFakeOpenRouter();
    fake.respondWith(conversationResponder(upstream));
    t = await startTestApp({ config, fake, databaseUrl: `sqlite:${join(dir, "store.sqlite")}` });
  });
  after(async () => {
    await t.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it("sends at most the window and the summary on each of 300 turns, and folds each turn into the summary once", async () => {
    const opened = await t.post("/sessions", {});
    const sessionId = opened.body.session_id as string;
    let summaryBefore: string | undefined;
    for (let turn = 1; turn <= turns; turn++) {
      const sent = t.fake?.requests.length ?? 0;
      const res = await t.post("/chat", { session_id: sessionId, message: message(turn) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // Routed by its category, whatever the length of the conversation.
      assert.equal(res.body.routing.rule, "category");
      assert.ok(
        res.body.routing.context_tokens <= maxTokens + 400,
        `turn ${turn}: ${res.body.routing.context_tokens}`,
      );
      const answer = t.fake?.requests.slice(sent).find((r) => r.body.model === models.medium);
      assert.ok(answer, `turn ${turn} reached the medium model`);
      const messages = answer.body.messages;
      const last = messages[messages.length - 1];
      assert.equal(last?.role, "user");
      assert.equal(textOf(last?.content), message(turn));
      const summary = messages.find((m) => m.role === "system");
      const history = messages.filter((m) => m !== last && m !== summary);
      const historyTokens = history.reduce((sum, m) => sum + estimateTokens(textOf(m.content)), 0);
      assert.ok(historyTokens <= maxTokens, `turn ${turn} sent ${historyTokens} tokens of history`);
      assert.equal(history[0]?.role ?? "user", "user", "the window starts with a question");
      // The summary comes from the summarizer (the latest one written before this turn).
      if (summary) assert.match(textOf(summary.content), /summary number \d+$/);
      if (summaryBefore && summary) {
        const n = (text: string) => Number(/summary number (\d+)$/.exec(text)?.[1]);
        assert.ok(n(textOf(summary.content)) >= n(summaryBefore));
      }
      if (summary) summaryBefore = textOf(summary.content);
      await t.app.summarizer.settled();
    }
    assert.ok(summaryBefore, "the summary reached the model");

    // Each turn that left the window reached the summarizer exactly once, in order, and no other turn did.
    const folded = (t.fake?.requests ?? []).filter(isSummarizer).flatMap(foldedTurns);
    const state = await t.app.store.getSession(sessionId);
    assert.ok(state);
    const window = await t.app.store.listMessagesFrom(sessionId, state.windowStart);
    const firstInWindow = Number(/^turn-(\d+):/.exec(window[0]?.content ?? "")?.[1]);
    assert.deepEqual(
      folded,
      Array.from({ length: firstInWindow - 1 }, (_, i) => i + 1),
    );
    assert.equal(state.summarizedMessages, (firstInWindow - 1) * 2);
    assert.equal(state.messageCount, turns * 2);
    assert.ok(state.windowTokens <= maxTokens);

    // The session's history listing still has everything, a page at a time.
    const page = await t.get(`/sessions/${sessionId}?limit=10`);
    assert.equal(page.status, 200);
    assert.equal(page.body.messages.length, 10);
    assert.equal(page.body.message_count, turns * 2);
    assert.match(page.body.summary.text, /^summary number/);
    const older = await t.get(`/sessions/${sessionId}?limit=10&before=${page.body.next_before}`);
    assert.equal(older.body.messages.at(-1).id, page.body.messages[0].id - 1);
  });

  it("routes a plain question in a 150k-token conversation by its category", async () => {
    const sessionId = await longConversation(t);
    const res = await t.post("/chat", { session_id: sessionId, message: plainQuestion });
    assert.equal(res.body.routing.rule, "category");
    assert.equal(res.body.model, models.medium);
    assert.ok(res.body.routing.context_tokens <= maxTokens + 50);
    // With the client's own figure, that counts.
    const told = await t.post("/chat", {
      session_id: sessionId,
      message: plainQuestion,
      context_tokens: 150_000,
    });
    assert.notEqual(told.body.routing.rule, "category");
    await t.app.summarizer.settled();
  });

  it("keeps answering while the summarizer fails, sending at most maxTokens, and catches up on the next turn", async () => {
    const opened = await t.post("/sessions", {});
    const sessionId = opened.body.session_id as string;
    upstream.failSummaries = true;
    for (let turn = 1; turn <= 40; turn++) {
      const sent = t.fake?.requests.length ?? 0;
      const res = await t.post("/chat", { session_id: sessionId, message: message(turn) });
      assert.equal(res.status, 200);
      assert.match(res.body.response, /^answer from/);
      const answer = t.fake?.requests.slice(sent).find((r) => r.body.model === models.medium);
      const history = (answer?.body.messages ?? []).slice(0, -1);
      assert.ok(
        history.every((m) => m.role !== "system"),
        "no summary yet",
      );
      const historyTokens = history.reduce((sum, m) => sum + estimateTokens(textOf(m.content)), 0);
      assert.ok(historyTokens <= maxTokens, `turn ${turn} sent ${historyTokens} tokens of history`);
      await t.app.summarizer.settled();
    }
    const failing = await t.app.store.getSession(sessionId);
    assert.equal(failing?.summary, null);
    assert.equal(failing?.windowStart, 0);
    assert.ok((failing?.windowTokens ?? 0) > maxTokens);

    upstream.failSummaries = false;
    await t.post("/chat", { session_id: sessionId, message: message(41) });
    await t.app.summarizer.settled();
    const caughtUp = await t.app.store.getSession(sessionId);
    assert.match(caughtUp?.summary ?? "", /^summary number/);
    assert.ok((caughtUp?.windowStart ?? 0) > 0);
  });

  it("keeps the running totals and the summary across a restart", async () => {
    const opened = await t.post("/sessions", {});
    const sessionId = opened.body.session_id as string;
    for (let turn = 1; turn <= 30; turn++) {
      await t.post("/chat", { session_id: sessionId, message: message(turn) });
      await t.app.summarizer.settled();
    }
    const before = await t.get(`/sessions/${sessionId}?limit=1`);
    await t.close();
    t = await startTestApp({ config, fake, databaseUrl: `sqlite:${join(dir, "store.sqlite")}` });
    const afterRestart = await t.get(`/sessions/${sessionId}?limit=1`);
    assert.equal(afterRestart.body.message_count, 60);
    assert.deepEqual(afterRestart.body.summary, before.body.summary);
    assert.equal(afterRestart.body.total_tokens, before.body.total_tokens);
    const sent = t.fake?.requests.length ?? 0;
    await t.post("/chat", { session_id: sessionId, message: message(31) });
    const answer = t.fake?.requests.slice(sent).find((r) => r.body.model === models.medium);
    assert.equal(textOf(answer?.body.messages[0]?.content).endsWith(before.body.summary.text), true);
  });
});

describe("the whole history (sessions.history.maxTokens 0)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      config: { sessions: { history: { maxTokens: 0 } }, routing: { warmup: { enabled: false } } },
    });
    t.fake?.respondWith(conversationResponder({ failSummaries: false, summaries: 0 }));
  });
  after(() => t.close());

  it("sends every earlier turn that fits the model and never summarizes", async () => {
    const opened = await t.post("/sessions", {});
    const sessionId = opened.body.session_id as string;
    for (let turn = 1; turn <= 40; turn++)
      await t.post("/chat", { session_id: sessionId, message: message(turn) });
    const answer = (t.fake?.requests ?? []).filter((r) => r.body.model === models.medium).at(-1);
    assert.equal(answer?.body.messages.length, 79);
    assert.equal((t.fake?.requests ?? []).filter(isSummarizer).length, 0);
  });

  it("routes a plain question in a 150k-token conversation by its size", async () => {
    const sessionId = await longConversation(t);
    const res = await t.post("/chat", { session_id: sessionId, message: plainQuestion });
    assert.notEqual(res.body.routing.rule, "category");
    assert.ok(res.body.routing.context_tokens > 100_000);
  });
});

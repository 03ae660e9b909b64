import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatMessage } from "../../../src/providers/chat-provider.ts";
import {
  LabelMemo,
  type LabelMemoSettings,
  labelMemoEntryBytes,
  labelMemoKey,
  normaliseForLabel,
} from "../../../src/routing/label-memo.ts";

const settings: LabelMemoSettings = { enabled: true, maxEntries: 100, maxMegabytes: 8, ttlSeconds: 600 };
const fromModel = (category: "L" | "M" | "H") => ({ category, source: "model" });

function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const history: ChatMessage[] = [
  { role: "user", content: "Tell me about Rome" },
  { role: "assistant", content: "Rome is the capital of Italy." },
];

describe("LabelMemo", () => {
  it("answers a repeated question from memory, and counts the hit", () => {
    const memo = new LabelMemo(settings);
    assert.equal(memo.get(undefined, "Explain vaccines", history), undefined);
    memo.remember(undefined, "Explain vaccines", history, fromModel("M"));
    assert.equal(memo.get(undefined, "Explain vaccines", history), "M");
    assert.deepEqual(memo.stats(), { entries: 1, bytes: labelMemoEntryBytes, hits: 1, misses: 1 });
  });

  it("misses when the conversation the categorizer sees differs", () => {
    const memo = new LabelMemo(settings);
    memo.remember(undefined, "And its population?", history, fromModel("M"));
    const otherCity: ChatMessage[] = [history[0] as ChatMessage, { role: "assistant", content: "Paris..." }];
    assert.equal(memo.get(undefined, "And its population?", otherCity), undefined);
    assert.equal(memo.get(undefined, "And its population?", []), undefined);
    // The same words from the other speaker are another conversation.
    const swapped: ChatMessage[] = history.map((m) => ({
      ...m,
      role: m.role === "user" ? "assistant" : "user",
    }));
    assert.equal(memo.get(undefined, "And its population?", swapped), undefined);
    assert.equal(memo.get(undefined, "And its population?", history), "M");
  });

  it("keeps each client's labels to that client, and open mode apart from every client", () => {
    const memo = new LabelMemo(settings);
    memo.remember("client-a", "Plan a product launch", [], fromModel("H"));
    assert.equal(memo.get("client-a", "Plan a product launch", []), "H");
    assert.equal(memo.get("client-b", "Plan a product launch", []), undefined);
    assert.equal(memo.get(undefined, "Plan a product launch", []), undefined);
  });

  it("forgets a label once its TTL has passed, counted from when the model gave it", () => {
    const clock = manualClock();
    const memo = new LabelMemo({ ...settings, ttlSeconds: 60 }, clock);
    memo.remember(undefined, "Prove the theorem", [], fromModel("L"));
    clock.advance(59_000);
    assert.equal(memo.get(undefined, "Prove the theorem", []), "L");
    clock.advance(1_001);
    assert.equal(memo.get(undefined, "Prove the theorem", []), undefined);
  });

  it("holds at most maxEntries labels, dropping the least recently used", () => {
    const memo = new LabelMemo({ ...settings, maxEntries: 3 });
    for (const n of [1, 2, 3]) memo.remember(undefined, `question ${n}`, [], fromModel("M"));
    memo.get(undefined, "question 1", []);
    memo.remember(undefined, "question 4", [], fromModel("L"));
    assert.equal(memo.size, 3);
    assert.equal(memo.get(undefined, "question 2", []), undefined);
    assert.equal(memo.get(undefined, "question 1", []), "M");
    assert.equal(memo.get(undefined, "question 4", []), "L");
  });

  it("holds at most maxMegabytes of entries, whatever maxEntries allows", () => {
    const maxMegabytes = (5 * labelMemoEntryBytes) / (1024 * 1024);
    const memo = new LabelMemo({ ...settings, maxEntries: 1_000, maxMegabytes });
    for (let n = 0; n < 50; n++) memo.remember(undefined, `question ${n}`, [], fromModel("M"));
    assert.equal(memo.size, 5);
    assert.equal(memo.stats().bytes, 5 * labelMemoEntryBytes);
    assert.equal(memo.get(undefined, "question 49", []), "M");
    assert.equal(memo.get(undefined, "question 0", []), undefined);
  });

  it("keeps the same size per entry however long the question is: it stores a digest, not the text", () => {
    const memo = new LabelMemo(settings);
    memo.remember(
      undefined,
      "x".repeat(100_000),
      [{ role: "user", content: "y".repeat(50_000) }],
      fromModel("H"),
    );
    assert.equal(memo.stats().bytes, labelMemoEntryBytes);
    const key = labelMemoKey(undefined, "a secret question", []);
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  });

  it("shares a label between requests that differ only in spacing and letter case", () => {
    const memo = new LabelMemo(settings);
    memo.remember(undefined, "Write a haiku\n about   the sea", history, fromModel("M"));
    assert.equal(memo.get(undefined, "  WRITE a Haiku about\tthe sea\n", history), "M");
    const respaced = history.map((m) => ({ ...m, content: `  ${String(m.content).toUpperCase()} ` }));
    assert.equal(memo.get(undefined, "write a haiku about the sea", respaced), "M");
    // Different words are a different request.
    assert.equal(memo.get(undefined, "Write a haiku about the sky", history), undefined);
    assert.equal(memo.get(undefined, "Writea haiku about the sea", history), undefined);
  });

  it("keys on what the categorizer sees: text past its clip does not split an entry", () => {
    const memo = new LabelMemo(settings);
    const long = "word ".repeat(4_000);
    memo.remember(undefined, `${long} then one ending`, [], fromModel("H"));
    assert.equal(memo.get(undefined, `${long} then another`, []), "H");
  });

  it("remembers only labels the categorizer model gave, not the local rule's fallbacks", () => {
    const memo = new LabelMemo(settings);
    memo.remember(undefined, "Explain vaccines", [], { category: "M", source: "fallback" });
    assert.equal(memo.get(undefined, "Explain vaccines", []), undefined);
    assert.equal(memo.size, 0);
  });

  it("remembers nothing when turned off", () => {
    const memo = new LabelMemo({ ...settings, enabled: false });
    memo.remember(undefined, "Explain vaccines", [], fromModel("M"));
    assert.equal(memo.get(undefined, "Explain vaccines", []), undefined);
    assert.deepEqual(memo.stats(), { entries: 0, bytes: 0, hits: 0, misses: 0 });
  });
});

describe("normaliseForLabel", () => {
  it("trims, collapses whitespace of any kind to one space and lowers the case", () => {
    assert.equal(normaliseForLabel("\n\t Hello\u00a0\u00a0WORLD \r\n again  "), "hello world again");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planFold } from "../../../src/chat/history-fold.ts";
import type { StoredMessage } from "../../../src/store/store.ts";

const message = (id: number, role: "user" | "assistant", tokens: number): StoredMessage => ({
  id,
  sessionId: "s",
  role,
  content: `${role} ${id}`,
  tokens,
  createdAt: "2026-01-01T00:00:00.000Z",
});

// Ten turns of 10 + 10 tokens, ids 11..30.
const window = Array.from({ length: 20 }, (_, i) => message(11 + i, i % 2 === 0 ? "user" : "assistant", 10));

describe("planFold", () => {
  it("folds nothing while the window fits", () => {
    assert.equal(planFold(window, 200, 1_000), undefined);
  });

  it("folds the oldest turns until the window is at most half of maxTokens, and starts it at a question", () => {
    const plan = planFold(window, 190, 1_000);
    assert.ok(plan);
    // 200 tokens, target 95: six turns (120 tokens) leave and 80 stay (after five, 100 would stay).
    assert.deepEqual(
      plan.leaving.map((m) => m.id),
      [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22],
    );
    assert.equal(plan.leavingTokens, 120);
    assert.equal(plan.nextStart, 23);
    assert.equal(window.find((m) => m.id === plan.nextStart)?.role, "user");
  });

  it("takes at most maxFoldTokens at once (at a turn's end), leaving the rest for the next fold", () => {
    const plan = planFold(window, 50, 40);
    assert.ok(plan);
    assert.deepEqual(
      plan.leaving.map((m) => m.id),
      [11, 12, 13, 14],
    );
    assert.equal(plan.nextStart, 15);
  });

  it("never leaves a window that starts with an answer", () => {
    const odd = [
      message(1, "user", 10),
      message(2, "assistant", 100),
      message(3, "user", 10),
      message(4, "assistant", 10),
    ];
    const plan = planFold(odd, 100, 1_000);
    assert.deepEqual(
      plan?.leaving.map((m) => m.id),
      [1, 2],
    );
    assert.equal(plan?.nextStart, 3);
  });
});

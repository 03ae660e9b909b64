import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { historyWindow } from "../../../src/chat/history-window.ts";
import type { StoredMessage } from "../../../src/store/store.ts";

const message = (id: number, role: "user" | "assistant", tokens: number): StoredMessage => ({
  id,
  sessionId: "s",
  role,
  content: `${role} ${id}`,
  tokens,
  createdAt: "2026-01-01T00:00:00.000Z",
});

describe("historyWindow", () => {
  const history = [
    message(1, "user", 10),
    message(2, "assistant", 10),
    message(3, "user", 10),
    message(4, "assistant", 10),
  ];

  it("keeps everything that fits, oldest first", () => {
    assert.deepEqual(
      historyWindow(history, 100).map((m) => m.content),
      ["user 1", "assistant 2", "user 3", "assistant 4"],
    );
  });

  it("drops whole old turns and never starts with an orphaned answer", () => {
    assert.deepEqual(
      historyWindow(history, 30).map((m) => m.content),
      ["user 3", "assistant 4"],
    );
    assert.deepEqual(historyWindow(history, 5), []);
  });
});

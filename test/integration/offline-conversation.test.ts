import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("a long conversation in offline mode", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      mode: "offline",
      config: { sessions: { history: { maxTokens: 1_500 } }, routing: { warmup: { enabled: false } } },
    });
  });
  after(() => t.close());

  it("folds the older turns into a simulated summary that names the user's questions", async () => {
    const opened = await t.post("/sessions", {});
    const id = opened.body.session_id as string;
    for (let n = 1; n <= 30; n++) {
      const res = await t.post("/chat", {
        session_id: id,
        message: `question ${n}: how do tides work near harbour number ${n}? ${"Please explain in detail. ".repeat(8)}`,
      });
      assert.equal(res.status, 200);
      await t.app.summarizer.settled();
    }
    const session = await t.get(`/sessions/${id}?limit=1`);
    assert.match(session.body.summary.text, /^\[simulated summary\]/);
    assert.match(session.body.summary.text, /question \d+: how do tides work/);
    assert.ok(session.body.summary.messages > 0);
    assert.ok(session.body.summary.tokens < 400, "bounded, however long the conversation");
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// Each reproduction of an attack or a busy multi-client deployment, run against a real server.

describe("hostile input: memory bombs", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake, config: { orchestration: { maxPromptChars: 300_000 } } });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("refuses a workflow whose prompts repeat a large variable, naming the task, before running anything", async () => {
    const tasks = Array.from({ length: 12 }, (_, i) => ({
      model: "fast_ai",
      prompt: "{a}".repeat(500),
      output_variable: `out${i}`,
    }));
    const res = await t.post("/workflow", {
      workflow: [{ type: "linear", tasks }],
      variables: { a: "x".repeat(1_000_000) },
      async: true,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_workflow");
    assert.equal(res.body.error.field, "workflow[0].tasks[0].prompt");
    assert.match(res.body.error.message, /can grow to 500000000 characters/);
    assert.match(res.body.error.message, /orchestration\.maxPromptChars/);
    assert.equal(fake.requests.length, 0);
  });

  it("counts an earlier task's output at its max output tokens", async () => {
    const res = await t.post("/workflow", {
      workflow: [
        { type: "linear", tasks: [{ model: "fast_ai", prompt: "write", output_variable: "draft" }] },
        { type: "linear", tasks: [{ model: "fast_ai", prompt: "{draft}".repeat(80), output_variable: "x" }] },
      ],
    });
    // fast_ai may write 1024 tokens (about 4096 characters): 80 copies pass 300000.
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, "workflow[1].tasks[0].prompt");
  });

  it("fails a task whose filled-in prompt is still too long at run time with a logical error", async () => {
    fake.clear();
    fake.respondWith(() => ({ kind: "text", content: "y".repeat(120_000) }));
    const res = await t.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: [
            { model: "fast_ai", prompt: "write", output_variable: "draft", config: { max_tokens: 100 } },
          ],
        },
        {
          type: "linear",
          tasks: [{ model: "fast_ai", prompt: "{draft}{draft}{draft}", output_variable: "x" }],
        },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.error.code, "prompt_too_large");
    assert.equal(res.body.error.type, "logical");
    assert.match(res.body.error.message, /360000 characters/);
    assert.equal(fake.requests.length, 1, "the oversized prompt was never sent");
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("offline mode (no OPENROUTER_API_KEY)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ mode: "offline" });
  });
  after(() => t.close());

  it("says so in /health", async () => {
    const res = await t.get("/health");
    assert.equal(res.body.mode, "offline");
    assert.equal(res.body.provider, "simulated");
    assert.match(res.body.notice, /OPENROUTER_API_KEY/);
  });

  it("answers through the simulated provider, marked as simulated, with priced usage", async () => {
    const res = await t.post("/chat", { message: "What are the benefits of renewable energy?" });
    assert.equal(res.status, 200);
    assert.equal(res.body.provider, "simulated");
    assert.equal(res.body.category, "M");
    assert.equal(res.body.model, "meta-llama/llama-3.3-70b-instruct");
    assert.match(res.body.response, /^\[simulated response from meta-llama\/llama-3\.3-70b-instruct\]/);
    assert.match(res.body.response, /benefits of renewable energy/);
    assert.ok(res.body.usage.prompt_tokens > 0 && res.body.usage.cost_usd > 0);
  });

  it("classifies by simple features of the message", async () => {
    const hard = await t.post("/chat", { message: "Prove that the square root of 2 is irrational" });
    assert.equal(hard.body.category, "L");
    assert.equal(hard.body.model, "moonshotai/kimi-k2.6");
  });

  it("runs the H flow to completion", async () => {
    const res = await t.post("/chat", {
      message:
        "Create a complete marketing campaign for eco-friendly water bottles including social media posts, product images, and a promotional video",
    });
    assert.equal(res.body.category, "H");
    assert.match(res.body.response, /^\[simulated\]/);
    const done = await eventually("the run to complete", async () => {
      const run = await t.get(`/workflow/${res.body.workflow_id}`);
      return run.body.status === "completed" ? run : undefined;
    });
    assert.match(done.body.result, /\[simulated response from moonshotai\/kimi-k2\.6\]/);
  });
});

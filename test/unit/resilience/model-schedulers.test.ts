import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelSchedulers } from "../../../src/resilience/model-schedulers.ts";

const ratios = { high: 0.6, medium: 0.3, low: 0.1 };
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("ModelSchedulers", () => {
  it("limits each model on its own: a full model does not hold up another", async () => {
    const schedulers = new ModelSchedulers(() => 2, ratios);
    const a1 = await schedulers.acquire("model-a", "high");
    await schedulers.acquire("model-a", "high");
    let thirdA = false;
    const waitingA = schedulers.acquire("model-a", "high").then((release) => {
      thirdA = true;
      return release;
    });
    // model-b still has all its slots although model-a has none.
    const b = await schedulers.acquire("model-b", "high");
    await settled();
    assert.equal(thirdA, false);
    assert.deepEqual(schedulers.stats(), { running: 3, waiting: { high: 1, medium: 0, low: 0 } });
    a1();
    (await waitingA)();
    assert.equal(thirdA, true);
    b();
  });

  it("takes a model's own limit where one is configured", async () => {
    const schedulers = new ModelSchedulers((model) => (model === "tiny" ? 1 : 100), ratios);
    await schedulers.acquire("tiny", "medium");
    let second = false;
    void schedulers.acquire("tiny", "medium").then(() => {
      second = true;
    });
    for (let i = 0; i < 50; i++) await schedulers.acquire("big", "medium");
    await settled();
    assert.equal(second, false);
    const tiny = schedulers.byModel().find((m) => m.model === "tiny");
    assert.deepEqual(tiny, {
      model: "tiny",
      running: 1,
      capacity: 1,
      waiting: { high: 0, medium: 1, low: 0 },
    });
  });

  it("forgets a model once nothing runs or waits on it, also after an aborted wait", async () => {
    const schedulers = new ModelSchedulers(() => 1, ratios);
    const release = await schedulers.acquire("m", "low");
    const abort = new AbortController();
    const aborted = schedulers.acquire("m", "low", abort.signal);
    abort.abort(new Error("client left"));
    await assert.rejects(aborted, /client left/);
    assert.equal(schedulers.byModel().length, 1);
    release();
    release(); // a second release changes nothing
    assert.deepEqual(schedulers.byModel(), []);
    assert.deepEqual(schedulers.stats(), { running: 0, waiting: { high: 0, medium: 0, low: 0 } });
  });
});

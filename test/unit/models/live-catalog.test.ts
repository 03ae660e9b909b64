import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveCatalog } from "../../../src/models/live-catalog.ts";

const clock = { now: () => 0, isoNow: () => "2026-11-29T00:00:00.000Z" };
const list = (price: string) => ({
  data: [{ id: "a/b", pricing: { prompt: price, completion: price }, context_length: 1000 }],
});

describe("LiveCatalog", () => {
  it("reads the list at start and again every refreshMs, until stopped", async () => {
    let price = "0.000001";
    let reads = 0;
    let tick: (() => void) | undefined;
    let period = 0;
    let stopped = false;
    const live = new LiveCatalog({
      fetchModels: async () => {
        reads++;
        return list(price);
      },
      configured: new Map([["a/b", ["role_ai"]]]),
      refreshMs: 3_600_000,
      clock,
      every: (task, ms) => {
        tick = task;
        period = ms;
        return () => {
          stopped = true;
        };
      },
    });
    await live.start();
    assert.equal(reads, 1);
    assert.equal(period, 3_600_000);
    assert.equal(live.listed("a/b")?.pricing?.inputPerMillion, 1);
    price = "0.000002";
    tick?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 2);
    assert.equal(live.listed("a/b")?.pricing?.inputPerMillion, 2);
    live.stop();
    assert.ok(stopped);
  });

  it("keeps the last good list when a refresh fails, and says so", async () => {
    let fail = false;
    const live = new LiveCatalog({
      fetchModels: async () => {
        if (fail) throw new Error("503 from the upstream");
        return list("0.000001");
      },
      configured: new Map(),
      refreshMs: 0,
      clock,
    });
    await live.start();
    fail = true;
    await live.refresh();
    assert.equal(live.listed("a/b")?.pricing?.inputPerMillion, 1);
    assert.equal(live.status().source, "openrouter");
    assert.match(live.status().reason ?? "", /503 from the upstream.*last list read stays in use/);
  });
});

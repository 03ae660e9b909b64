import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wilsonInterval, z95 } from "../../../src/core/wilson.ts";

const close = (actual: number | undefined, expected: number, digits = 6) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 10 ** -digits,
    `${actual} is not ${expected}`,
  );

describe("wilsonInterval", () => {
  it("matches a hand computation: 32 of 40 judged as good or better", () => {
    // p = 32/40 = 0.8, z = 1.959964, z² = 3.841459
    // denominator = 1 + z²/n = 1 + 3.841459/40 = 1.0960365
    // centre = (p + z²/2n) / denominator = (0.8 + 0.0480182) / 1.0960365 = 0.7737135
    // half = z/denominator · √(p(1−p)/n + z²/4n²) = 1.7882264 · √(0.004 + 0.0006002) = 1.7882264 · 0.0678250 = 0.1212867
    // interval = 0.7737135 ± 0.1212867 = [0.6524268, 0.8950001]
    const interval = wilsonInterval(32, 40);
    assert.equal(interval?.share, 0.8);
    close(interval?.lower, 0.6524268);
    close(interval?.upper, 0.8950001);
  });

  it("stays inside [0, 1] at the edges, where the textbook interval would collapse to a point", () => {
    const none = wilsonInterval(0, 10);
    assert.equal(none?.lower, 0);
    close(none?.upper, 0.2775328); // z²/(n + z²) = 3.841459 / 13.841459
    const all = wilsonInterval(10, 10);
    close(all?.lower, 0.7224672);
    close(all?.upper, 1);
    const one = wilsonInterval(1, 1);
    close(one?.lower, 0.2065493); // 1/(1 + z²)
  });

  it("has nothing to say with no trials", () => {
    assert.equal(wilsonInterval(0, 0), undefined);
  });

  it("narrows as the sample grows, around the same share", () => {
    const small = wilsonInterval(8, 10);
    const large = wilsonInterval(800, 1000);
    assert.ok(small && large);
    assert.ok(large.upper - large.lower < (small.upper - small.lower) / 5);
  });

  it("uses the 97.5th percentile of the normal distribution", () => {
    close(z95, 1.959964);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countTokensExactly, createTokenCounter, estimateTokens } from "../../../src/tokens/token-counter.ts";

// A timer fired by hand: the test decides when the idle time has passed.
function manualTimer() {
  const timers: { run: () => void; cancelled: boolean }[] = [];
  return {
    schedule: (run: () => void) => {
      const timer = { run, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    fire: () => {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.run();
    },
  };
}

describe("token counter", () => {
  it("counts with a real BPE tokenizer, not characters/4", async () => {
    assert.equal(await countTokensExactly(""), 0);
    assert.equal(await countTokensExactly("hello world"), 2);
    // 12 characters of digits and punctuation are far from 3 tokens.
    assert.notEqual(await countTokensExactly("1,2,3,4,5,6,"), 3);
  });

  it("estimates without the tokenizer, on the high side for prose and close for other scripts", async () => {
    const english = "The quick brown fox jumps over the lazy dog, and then it rests for a while. ".repeat(40);
    const exact = await countTokensExactly(english);
    assert.ok(estimateTokens(english) >= exact, `${estimateTokens(english)} >= ${exact}`);
    assert.ok(estimateTokens(english) < exact * 3);
    const japanese = "東京は日本の首都であり、多くの人々が暮らしています。".repeat(20);
    const exactJapanese = await countTokensExactly(japanese);
    assert.ok(estimateTokens(japanese) >= exactJapanese * 0.5);
    assert.equal(estimateTokens(""), 0);
  });

  it("gives the same count on the worker thread as inline, and stops the worker once idle", async () => {
    const timer = manualTimer();
    const counter = createTokenCounter({ workerThreshold: 100, schedule: timer.schedule });
    try {
      const text = "Tokenizers split text into pieces; counting them right matters. ".repeat(50);
      const [onWorker, alsoOnWorker] = await Promise.all([
        counter.count(text),
        counter.count(`${text} more`),
      ]);
      assert.equal(onWorker, await countTokensExactly(text));
      assert.equal(alsoOnWorker, await countTokensExactly(`${text} more`));
      assert.equal(await counter.count("short"), await countTokensExactly("short"));
      assert.equal(counter.workerRunning, true);
      timer.fire();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(counter.workerRunning, false, "the idle worker is stopped");
      // The next large text starts a new one.
      assert.equal(await counter.count(text), onWorker);
      assert.equal(counter.workerRunning, true);
    } finally {
      await counter.close();
    }
  });

  it("counts a request's texts as one job, stopping once past the limit, and a large job does not hold up a small one", async () => {
    const counter = createTokenCounter({ workerThreshold: 100 });
    try {
      const texts = ["Tokenizers split text into pieces. ".repeat(40), "And count them. ".repeat(40)];
      const whole = (await countTokensExactly(texts[0] ?? "")) + (await countTokensExactly(texts[1] ?? ""));
      assert.deepEqual(await counter.countUpTo(texts, Number.POSITIVE_INFINITY), {
        tokens: whole,
        exact: true,
      });
      const limit = Math.floor(whole * 0.6);
      const stopped = await counter.countUpTo(texts, limit);
      assert.equal(stopped.exact, false);
      assert.equal(stopped.sampled, undefined);
      assert.ok(stopped.tokens > limit && stopped.tokens < whole);
      // Far past the limit: a sample says so.
      assert.equal((await counter.countUpTo(texts, 10)).sampled, true);

      // Letters with no space cost far more to count than prose: a few seconds' worth for the large job.
      let seed = 7;
      const letters = Array.from({ length: 1_000_000 }, () => {
        seed = (seed * 48_271) % 2_147_483_647;
        return String.fromCharCode(97 + (seed % 26));
      }).join("");
      const order: string[] = [];
      const large = counter.count(letters).then(() => order.push("large"));
      const small = counter
        .count("A short question about tokens. ".repeat(10))
        .then(() => order.push("small"));
      await Promise.all([large, small]);
      assert.deepEqual(order, ["small", "large"]);
    } finally {
      await counter.close();
    }
  });
});

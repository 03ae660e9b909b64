import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { describe, it } from "node:test";

// Records every module this process loads from now on. node --test runs each file in its own process,
// and the service is imported only after the hook is in place, so the record is the service's own.
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    loaded.add(resolved.url);
    return resolved;
  },
});
const packageLoaded = (name: string) => [...loaded].some((url) => url.includes(`/node_modules/${name}/`));

const { startTestApp } = await import("../support/test-app.ts");
const { models } = await import("../support/responders.ts");
const { tokenizerLoaded } = await import("../../src/tokens/token-counter.ts");

describe("what is not configured or not needed is not loaded", () => {
  it("serves chat without Redis, the queue, PostgreSQL, the tokenizer or an SDK, and loads the tokenizer for a large context", async () => {
    const t = await startTestApp({ databaseUrl: ":memory:" });
    try {
      t.fake?.respondWith((request) =>
        request.body.model === models.categorizer
          ? { kind: "text", content: "M" }
          : { kind: "text", content: "answered" },
      );
      assert.equal(
        (await t.post("/chat", { message: "What are the benefits of renewable energy?" })).status,
        200,
      );
      const completion = await t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(completion.status, 200);
      const tracingSdk = ["@opentelemetry/sdk-trace", "@opentelemetry/exporter-trace-otlp-proto"];
      for (const name of ["bullmq", "ioredis", "pg", "openai", "gpt-tokenizer", ...tracingSdk]) {
        assert.equal(packageLoaded(name), false, `${name} is not loaded`);
      }
      assert.equal(tokenizerLoaded(), false);

      // ~120k tokens (the estimate says ~230k, past the 200k threshold): near a threshold, so counted
      // exactly (on the worker thread, being large), and routed by the exact count.
      const big = "alpha beta gamma delta ".repeat(30_000);
      const res = await t.post("/chat", { message: big });
      assert.equal(res.status, 200);
      assert.equal(res.body.model, models.thinking);
      assert.ok(res.body.routing.context_tokens > 100_000 && res.body.routing.context_tokens < 200_000);
    } finally {
      await t.close();
    }
  });
});

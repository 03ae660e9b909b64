import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OrchestratorError } from "../../src/core/errors.ts";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { lastUserText, models, requestsTo } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";
import { movableClock, recordingSleep } from "../support/virtual-time.ts";

const mediumFallback = "meta-llama/llama-3.1-70b-instruct";
const categorizeAs = (label: string) => (request: RecordedRequest) =>
  request.body.model === models.categorizer ? ({ kind: "text", content: label } as const) : undefined;

describe("fault injection against the fake upstream", () => {
  it("retries 429s with growing gaps and then succeeds", async () => {
    const waits = recordingSleep();
    const t = await startTestApp({
      random: () => 0.999,
      sleep: waits.sleep,
      config: { errorHandling: { retry: { baseDelayMs: 40, maxDelayMs: 1000 } } },
    });
    try {
      const fake = t.fake;
      assert.ok(fake);
      let mediumCalls = 0;
      fake.respondWith(
        (request) =>
          categorizeAs("M")(request) ??
          (++mediumCalls <= 3
            ? { kind: "error", status: 429, message: "slow down" }
            : { kind: "text", content: "finally" }),
      );
      const res = await t.post("/chat", { message: "hello" });
      assert.equal(res.status, 200);
      assert.equal(res.body.response, "finally");
      // Full jitter pinned near its top: the backoff asked for doubles, ~40, ~80, ~160 ms.
      assert.deepEqual(waits.sleeps, [39, 79, 159]);
      // And the upstream really saw those gaps (a busy machine only makes them longer).
      const times = requestsTo(fake.requests, models.medium).map((r) => r.receivedAt);
      assert.equal(times.length, 4);
      const gaps = times.slice(1).map((at, i) => at - (times[i] ?? 0));
      for (const [i, gap] of gaps.entries()) {
        assert.ok(gap >= (waits.sleeps[i] ?? 0) - 1, `gap ${i + 1} is ${gap} ms, gaps ${gaps.join(", ")}`);
      }
    } finally {
      await t.close();
    }
  });

  it("makes one call on a 401, with a clear error and no retry or fallback", async () => {
    const t = await startTestApp();
    try {
      t.fake?.respondWith(() => ({ kind: "error", status: 401, message: "User not found." }));
      const res = await t.post("/chat", { message: "hello" });
      assert.equal(res.status, 502);
      assert.equal(res.body.error.type, "persistent");
      assert.equal(res.body.error.code, "upstream_auth_failed");
      assert.equal(res.body.error.retryable, false);
      assert.match(res.body.error.message, /401: User not found/);
      assert.deepEqual(
        t.fake?.requests.map((r) => r.body.model),
        [models.categorizer, models.medium],
        "one call to the categorizer (then the local rule), one to the answering model",
      );
    } finally {
      await t.close();
    }
  });

  it("opens the breaker after 5 failures, routes to the fallback, then recovers through half-open", async () => {
    const time = movableClock();
    const t = await startTestApp({
      // The breaker stays open for 30 s of the service's clock, which the test moves on: however slow the
      // machine, the circuit cannot half-open before the test says so.
      clock: time.clock,
      config: { errorHandling: { circuitBreaker: { failureThreshold: 5, timeoutSeconds: 30 } } },
    });
    try {
      const fake = t.fake;
      assert.ok(fake);
      let mediumUp = false;
      fake.respondWith(
        (request) =>
          categorizeAs("M")(request) ??
          (request.body.model === models.medium && !mediumUp
            ? { kind: "error", status: 503, message: "model overloaded" }
            : { kind: "text", content: `answer from ${request.body.model}` }),
      );
      const first = await t.post("/chat", { message: "one" });
      assert.equal(first.status, 200);
      assert.equal(first.body.model, mediumFallback);
      assert.equal(first.body.fallback_from, models.medium);
      assert.equal(requestsTo(fake.requests, models.medium).length, 5);

      const stats = await t.get("/stats");
      const circuit = stats.body.circuits.find((c: { model: string }) => c.model === models.medium);
      assert.equal(circuit.state, "open");
      assert.equal((await t.get("/health")).body.status, "degraded");

      for (let i = 0; i < 3; i++) {
        const res = await t.post("/chat", { message: `more ${i}` });
        assert.equal(res.body.model, mediumFallback);
      }
      assert.equal(
        requestsTo(fake.requests, models.medium).length,
        5,
        "the dead model is not touched while open",
      );

      mediumUp = true;
      time.advance(30_000);
      const recovered = await t.post("/chat", { message: "back?" });
      assert.equal(recovered.body.model, models.medium);
      assert.equal(recovered.body.fallback_from, undefined);
      assert.equal(requestsTo(fake.requests, models.medium).length, 6, "one trial call");
      const after = (await t.get("/stats")).body.circuits.find(
        (c: { model: string }) => c.model === models.medium,
      );
      assert.equal(after.state, "closed");
      assert.equal((await t.get("/health")).body.status, "ok");
    } finally {
      await t.close();
    }
  });

  it("answers with 503 and Retry-After when every model of the role is unavailable", async () => {
    const t = await startTestApp({
      config: { errorHandling: { circuitBreaker: { failureThreshold: 2, timeoutSeconds: 30 } } },
    });
    try {
      // Only the medium role's models are down: once their circuits are open, M requests are routed past
      // the role to the next capable one instead of being tried.
      const thinkingUp = (request: RecordedRequest): FakeReply =>
        request.body.model === models.thinking
          ? { kind: "text", content: "from the thinking model" }
          : { kind: "error", status: 503, message: "down" };
      t.fake?.respondWith((request) => categorizeAs("M")(request) ?? thinkingUp(request));
      assert.equal((await t.post("/chat", { message: "trip the breakers" })).status, 503);
      const routedPast = await t.post("/chat", { message: "again" });
      assert.equal(routedPast.status, 200);
      assert.equal(routedPast.body.model, models.thinking);
      assert.deepEqual(routedPast.body.routing.skipped, [{ role: "medium_ai", reason: "circuit_open" }]);

      // Everything down: once no role can serve, the route's own role is tried and refused at once.
      t.fake?.respondWith(
        (request) => categorizeAs("M")(request) ?? { kind: "error", status: 503, message: "down" },
      );
      // Each request trips the next role it is routed to: the thinking role's, then the large-context role's.
      for (const message of ["trip the thinking model's breakers", "and the large-context model's"]) {
        assert.equal((await t.post("/chat", { message })).status, 503);
      }
      const res = await t.post("/chat", { message: "and again" });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, "circuit_open");
      assert.match(res.body.error.message, /every model for role medium_ai failed/);
      assert.ok(Number(res.headers.get("retry-after")) > 0);
    } finally {
      await t.close();
    }
  });

  it("survives a connection reset and a hang: timeout, retry, answer", async () => {
    // Long enough that no answered call times out on a busy machine: only the hang does.
    const t = await startTestApp({ config: { errorHandling: { requestTimeoutMs: 2_000 } } });
    try {
      const fake = t.fake;
      assert.ok(fake);
      fake.respondWith((request) => categorizeAs("M")(request) ?? { kind: "text", content: "made it" });
      fake.enqueue({ kind: "text", content: "M" }, { kind: "reset" }, { kind: "hang" });
      const res = await t.post("/chat", { message: "hello" });
      assert.equal(res.status, 200);
      assert.equal(res.body.response, "made it");
      assert.equal(requestsTo(fake.requests, models.medium).length, 3);
    } finally {
      await t.close();
    }
  });

  it("limits each API client, by key, with 429 and Retry-After; health checks pass", async () => {
    const [a, b] = ["client-a-key-0123456789", "client-b-key-0123456789"];
    const t = await startTestApp({
      config: { api_keys: { clients: [a, b] }, rateLimits: { clients: { requestsPerMinute: 3 } } },
    });
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await t.post("/chat", { message: `hi ${i}` }, { authorization: `Bearer ${a}` })).status,
          200,
        );
      }
      const limited = await t.post("/chat", { message: "one too many" }, { authorization: `Bearer ${a}` });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, "rate_limited");
      assert.ok(Number(limited.headers.get("retry-after")) > 0);
      assert.equal((await t.post("/chat", { message: "hi" }, { authorization: `Bearer ${b}` })).status, 200);
      for (let i = 0; i < 5; i++) assert.equal((await t.get("/health")).status, 200);
    } finally {
      await t.close();
    }
  });

  it("answers every one of 200 concurrent requests under 30% transient errors, within the retry budget", async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const t = await startTestApp({
      config: {
        queuing: { maxConcurrentCallsPerModel: 32 },
        rateLimits: { clients: { requestsPerMinute: 0 } },
        errorHandling: { circuitBreaker: { failureThreshold: 1000 } },
      },
    });
    try {
      const faults = [
        { kind: "error", status: 503, message: "overloaded" },
        { kind: "error", status: 500, message: "internal" },
        { kind: "error", status: 429, message: "busy" },
        { kind: "reset" },
      ] as const;
      t.fake?.respondWith((request) => {
        if (random() < 0.3) return faults[Math.floor(random() * faults.length)] ?? faults[0];
        return request.body.model === models.categorizer
          ? { kind: "text", content: "M" }
          : { kind: "text", content: `ok ${lastUserText(request)}` };
      });
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => t.post("/chat", { message: `request-${i}` })),
      );
      for (const res of responses) {
        assert.ok(res.status === 200 || (res.status >= 500 && typeof res.body.error.message === "string"));
      }
      const answered = responses.filter((r) => r.status === 200);
      assert.ok(answered.length >= 198, `${answered.length} of 200 answered`);
      for (const [i, res] of responses.entries()) {
        if (res.status === 200)
          assert.equal(res.body.response, `ok request-${i}`, "no answer is crossed with another");
      }
      const byRequest = new Map<string, Map<string, number>>();
      for (const request of t.fake?.requests ?? []) {
        // The message's own text, not the categorizer's fence tags (<request-TOKEN>), whose token may open with digits.
        const tag =
          /(?<![</])request-\d+(?![0-9a-f])/.exec(JSON.stringify(request.body.messages))?.[0] ?? "?";
        const perModel = byRequest.get(tag) ?? new Map<string, number>();
        perModel.set(request.body.model, (perModel.get(request.body.model) ?? 0) + 1);
        byRequest.set(tag, perModel);
      }
      assert.equal(byRequest.size, 200);
      for (const [tag, perModel] of byRequest) {
        for (const [model, count] of perModel) assert.ok(count <= 5, `${tag} tried ${model} ${count} times`);
      }
    } finally {
      await t.close();
    }
  });
});

describe("streams through the resilience layer", () => {
  it("retries a stream that fails before its first chunk, but not one that fails midway", async () => {
    // A whole stream gets 2 s: the slow one ends in ~0.1 s, the stalling one (a chunk a second) cannot.
    const t = await startTestApp({ config: { errorHandling: { requestTimeoutMs: 2_000 } } });
    try {
      const fake = t.fake;
      assert.ok(fake);
      fake.enqueue(
        { kind: "error", status: 502, message: "bad gateway" },
        { kind: "text", content: "slow but whole", chunkSize: 3, chunkDelayMs: 20 },
      );
      let text = "";
      for await (const event of t.app.models.stream("medium_ai", {
        messages: [{ role: "user", content: "go" }],
        purpose: "answer",
      })) {
        if (event.type === "delta") text += event.text;
      }
      assert.equal(text, "slow but whole");
      assert.equal(fake.requests.length, 2);

      fake.clear();
      fake.enqueue({
        kind: "text",
        content: "this stream stalls after a few chunks",
        chunkSize: 4,
        chunkDelayMs: 1_000,
      });
      let received = "";
      await assert.rejects(
        async () => {
          for await (const event of t.app.models.stream("medium_ai", {
            messages: [{ role: "user", content: "go" }],
            purpose: "answer",
          })) {
            if (event.type === "delta") received += event.text;
          }
        },
        (error: unknown) => OrchestratorError.isInstance(error) && error.code === "upstream_timeout",
      );
      assert.ok(
        received.length > 0 && received.length < 36,
        "part of the answer arrived before the deadline",
      );
      assert.equal(fake.requests.length, 1, "a stream that already sent text is not replayed");
    } finally {
      await t.close();
    }
  });
});

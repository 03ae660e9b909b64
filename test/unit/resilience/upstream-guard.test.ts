import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { OrchestratorError } from "../../../src/core/errors.ts";
import { classifyUpstreamError, errorFromHttpStatus } from "../../../src/providers/upstream-error.ts";
import { encodeJson } from "../../../src/providers/upstream-http.ts";
import { breakerVerdict } from "../../../src/resilience/failure-classification.ts";
import type { HeldSlot } from "../../../src/resilience/held-slot.ts";
import { createResilience } from "../../../src/resilience/resilience.ts";
import {
  type CallHook,
  type GuardedCall,
  type Spend,
  UpstreamGuard,
} from "../../../src/resilience/upstream-guard.ts";
import type { UpstreamCall } from "../../../src/store/upstream-call.ts";
import { virtualTime } from "../../support/virtual-time.ts";

// A configured model id: it has its own breaker (made-up ids share "other").
const model = "meta-llama/llama-3.3-70b-instruct";

function setup(overrides: Record<string, unknown> = {}) {
  const time = virtualTime(1_000_000);
  const config = parseConfig({
    errorHandling: { circuitBreaker: { failureThreshold: 1, timeoutSeconds: 60 } },
    queuing: { maxConcurrentCallsPerModel: 1 },
    ...overrides,
  });
  const resilience = createResilience(config, { now: time.now, sleep: time.sleep, random: () => 0.5 });
  const recorded: UpstreamCall[] = [];
  const guard = new UpstreamGuard({
    resilience,
    now: time.now,
    recorder: { record: (c) => recorded.push(c) },
  });
  const call = (extra: Partial<GuardedCall> = {}): GuardedCall => ({
    kind: "image",
    purpose: "media",
    role: "image_generation_ai",
    model,
    // The provider the config names the model on: a circuit is kept per provider and model.
    provider: "openrouter",
    priority: "medium",
    deadline: time.now() + 300_000,
    ...extra,
  });
  const breaker = () => resilience.breakers.for(model).snapshot();
  return { time, resilience, guard, call, breaker, recorded };
}

const spend: Spend = { promptTokens: 0, completionTokens: 0, costUsd: 0.04, costSource: "price" };
const fails = (status: number) => () =>
  Promise.reject(errorFromHttpStatus({ status, reason: "no", where: "test", model }));

describe("UpstreamGuard", () => {
  it("gives the half-open trial back when a media call is aborted while it waits for a slot", async () => {
    const { time, resilience, guard, call, breaker } = setup({
      errorHandling: {
        circuitBreaker: { failureThreshold: 1, timeoutSeconds: 60 },
        retry: { maxAttempts: { transient: 1 } },
      },
    });
    await assert.rejects(
      guard.execute(call(), fails(503), () => spend),
      { code: "upstream_unavailable" },
    );
    assert.equal(breaker().state, "open");
    time.advance(61_000);
    assert.equal(breaker().state, "half_open");

    // Every slot of the model is taken, so the trial call waits for one, and its caller gives up while it waits.
    const holdSlot = await resilience.scheduler.acquire(model, "high");
    const controller = new AbortController();
    const waiting = guard.execute(
      call({ signal: controller.signal }),
      async () => ({ ok: true }),
      () => spend,
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resilience.scheduler.stats().waiting.medium, 1);
    controller.abort(new Error("client went away"));
    await assert.rejects(waiting);
    holdSlot();

    // The next call is the trial again, not `circuit_open` for good.
    const made = await guard.execute(
      call(),
      async () => ({ ok: true }),
      () => spend,
    );
    assert.deepEqual(made, { ok: true });
    assert.equal(breaker().state, "closed");
    assert.equal(resilience.scheduler.stats().running, 0);
  });

  it("counts only unhealthy failures toward the breaker: never 400, 404, 413, 422 or an abort", async () => {
    const { guard, call, breaker } = setup();
    for (const status of [400, 401, 402, 403, 404, 413, 422]) {
      await assert.rejects(guard.execute(call(), fails(status), () => spend));
      assert.equal(breaker().state, "closed", `a ${status} must not open the circuit`);
    }
    const controller = new AbortController();
    const aborted = guard.execute(
      call({ signal: controller.signal }),
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      () => spend,
    );
    controller.abort(new Error("bye"));
    await assert.rejects(aborted, { code: "cancelled" });
    assert.equal(breaker().state, "closed", "the caller's own abort says nothing about the upstream");
    await assert.rejects(guard.execute(call(), fails(500), () => spend));
    assert.equal(breaker().state, "open", "a 5xx does count");
  });

  it("tries a request that could not be built once, and counts it toward no circuit", async () => {
    const { guard, call, breaker } = setup();
    let tries = 0;
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    // What a provider does: encode the body, and classify whatever that threw.
    const encodeTooDeep = async () => {
      tries++;
      try {
        return encodeJson(deep);
      } catch (error) {
        throw classifyUpstreamError(error, { provider: "openrouter", model, timedOut: false });
      }
    };
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        guard.execute(call(), encodeTooDeep, () => spend),
        {
          kind: "logical",
          code: "request_too_complex",
          retryable: false,
        },
      );
    }
    assert.equal(tries, 3, "each call was tried once");
    assert.equal(breaker().state, "closed");
    assert.equal(breaker().consecutiveFailures, 0);
  });

  it("counts a 429 only when retrying did not cure it", async () => {
    const { guard, call, breaker, time } = setup({
      errorHandling: {
        circuitBreaker: { failureThreshold: 1, timeoutSeconds: 60 },
        retry: { maxAttempts: { transient: 3 } },
      },
    });
    let tries = 0;
    const cured = await guard.execute(
      call(),
      async () => {
        if (++tries < 3) return fails(429)();
        return "made";
      },
      () => spend,
    );
    assert.equal(cured, "made");
    assert.equal(breaker().state, "closed");
    assert.equal(time.sleeps.length, 2);
    await assert.rejects(
      guard.execute(call(), fails(429), () => spend),
      { code: "upstream_rate_limited" },
    );
    assert.equal(breaker().state, "open", "three 429s in a row: the upstream is saturated");
  });

  it("turns its own timeout into upstream_timeout, whatever the provider made of the abort", async () => {
    const { guard, call } = setup({
      errorHandling: { requestTimeoutMs: 5, retry: { maxAttempts: { resource: 1 } } },
    });
    await assert.rejects(
      guard.execute(
        call(),
        ({ signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () =>
              reject(new OrchestratorError({ kind: "logical", code: "cancelled", message: "aborted" })),
            ),
          ),
        () => spend,
      ),
      { code: "upstream_timeout", kind: "resource" },
    );
  });

  it("settles each hook's ticket with the spend on success and releases it on every other way out", async () => {
    const { guard, call, resilience, breaker } = setup();
    const events: string[] = [];
    const hook: CallHook = {
      before: async (c) => {
        events.push(`reserve ${c.model}`);
        return { settle: (s) => events.push(`settle ${s.costUsd}`), release: () => events.push("release") };
      },
    };
    guard.addHook(hook);
    await guard.execute(
      call(),
      async () => "ok",
      () => spend,
    );
    await assert.rejects(guard.execute(call(), fails(400), () => spend));
    assert.deepEqual(events, [`reserve ${model}`, "settle 0.04", `reserve ${model}`, "release"]);

    // A hook that refuses (a budget) stops the try before any slot is taken, and leaves the breaker alone.
    guard.addHook({
      before: () =>
        Promise.reject(
          new OrchestratorError({ kind: "persistent", code: "budget_exceeded", status: 402, message: "no" }),
        ),
    });
    events.length = 0;
    await assert.rejects(
      guard.execute(
        call(),
        async () => "never",
        () => spend,
      ),
      { code: "budget_exceeded" },
    );
    assert.deepEqual(events, [`reserve ${model}`, "release"]);
    assert.equal(resilience.scheduler.stats().running, 0);
    assert.equal(breaker().state, "closed");
    assert.ok(resilience.breakers.for(model).tryAcquire(), "no trial slot was kept");
  });

  it("admits a waiter holding nothing until a slot frees; granted, its slot serves the first try and no other", async () => {
    const { guard, call, resilience } = setup();
    const reserved: string[] = [];
    guard.addHook({
      before: async (c) => {
        reserved.push(c.model);
        return { settle: () => undefined, release: () => undefined };
      },
    });
    const busy = await resilience.scheduler.acquire(model, "high");
    const slots: HeldSlot[] = [];
    guard.admit(model, "medium", { granted: (slot) => slots.push(slot) });
    assert.equal(slots.length, 0);
    assert.equal(resilience.scheduler.stats().waiting.medium, 1);
    assert.deepEqual(reserved, [], "no reservation while it waits");
    busy();
    assert.equal(slots.length, 1, "granted as the slot frees");
    assert.equal(resilience.scheduler.stats().running, 1);

    // The model has one slot, held by the admitted waiter: a try that queued again would wait forever.
    const tries: number[] = [];
    const result = await guard.execute(
      call({ slot: slots[0] }),
      async () => {
        tries.push(resilience.scheduler.stats().running);
        return "ok";
      },
      () => spend,
    );
    assert.equal(result, "ok");
    assert.deepEqual(tries, [1]);
    assert.deepEqual(reserved, [model], "reserved when the try starts");
    assert.equal(resilience.scheduler.stats().running, 0, "the try gave the slot back");
    slots[0]?.giveBack();
    assert.equal(resilience.scheduler.stats().running, 0, "giving back a used slot does nothing");
  });

  it("withdraws an admitted waiter before it is granted, and gives a slot back that a fallback's try cannot use", async () => {
    const { guard, call, resilience } = setup();
    const busy = await resilience.scheduler.acquire(model, "high");
    let granted = false;
    const ticket = guard.admit(model, "medium", {
      granted: () => {
        granted = true;
      },
    });
    assert.equal(ticket.withdraw(), true);
    busy();
    assert.equal(granted, false);
    assert.equal(resilience.scheduler.stats().running, 0);

    const slots: HeldSlot[] = [];
    guard.admit(model, "medium", { granted: (slot) => slots.push(slot) });
    const fallback = "meta-llama/llama-3.1-8b-instruct";
    const running: { model: string; running: number }[][] = [];
    await guard.execute(
      call({ model: fallback, slot: slots[0] }),
      async () => {
        running.push(resilience.scheduler.byModel().map(({ model, running }) => ({ model, running })));
        return "ok";
      },
      () => spend,
    );
    assert.deepEqual(running, [[{ model: fallback, running: 1 }]], "the primary's slot went back first");
    assert.equal(resilience.scheduler.stats().running, 0);
  });

  it("gives the slot back when a stream's reader stops early, and fails a stream that never finished", async () => {
    const { guard, call, resilience, recorded } = setup({
      errorHandling: {
        circuitBreaker: { failureThreshold: 1, timeoutSeconds: 60 },
        retry: { maxAttempts: { transient: 1 } },
      },
    });
    async function* events() {
      yield "a";
      yield "b";
      yield "done";
    }
    const priced = (event: string) => (event === "done" ? spend : undefined);
    for await (const event of guard.stream(call({ kind: "chat" }), events, priced)) {
      if (event === "a") break;
    }
    assert.equal(resilience.scheduler.stats().running, 0);
    assert.equal(recorded.at(-1)?.errorCode, "abandoned");

    async function* cutShort() {
      yield "a";
    }
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of guard.stream(call({ kind: "chat" }), cutShort, priced)) seen.push(event);
      })(),
      { code: "upstream_truncated" },
    );
    assert.deepEqual(seen, ["a"]);
    assert.equal(resilience.scheduler.stats().running, 0);
  });
});

describe("breakerVerdict", () => {
  const verdict = (status: number, willRetry = false) =>
    breakerVerdict(errorFromHttpStatus({ status, reason: "x", where: "w", model }), {
      callerAborted: false,
      willRetry,
    });

  it("reads 5xx, 408 and a final 429 as unhealthy and request-caused 4xx as neutral", () => {
    assert.deepEqual(
      [500, 502, 503, 504, 408].map((s) => verdict(s)),
      ["unhealthy", "unhealthy", "unhealthy", "unhealthy", "unhealthy"],
    );
    assert.deepEqual(
      [400, 401, 402, 403, 404, 413, 422].map((s) => verdict(s)),
      Array(7).fill("neutral"),
    );
    assert.equal(verdict(429, true), "neutral");
    assert.equal(verdict(429, false), "unhealthy");
  });

  it("reads connection failures and timeouts as unhealthy, cancellations as neutral", () => {
    const error = (code: string, kind: "transient" | "logical" = "transient") =>
      new OrchestratorError({ kind, code, message: code });
    const context = { callerAborted: false, willRetry: false };
    assert.equal(breakerVerdict(error("upstream_unreachable"), context), "unhealthy");
    assert.equal(breakerVerdict(error("upstream_timeout"), context), "unhealthy");
    assert.equal(breakerVerdict(error("cancelled", "logical"), context), "neutral");
    assert.equal(breakerVerdict(error("upstream_timeout"), { ...context, callerAborted: true }), "neutral");
  });
});

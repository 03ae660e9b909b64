import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import {
  type FakeOpenRouter,
  type FakeReply,
  type RecordedRequest,
  startFakeOpenRouter,
} from "../fakes/fake-openrouter.ts";
import { lastUserText, models, refutedSpeculationResponder, requestsTo } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// The categorizer off the critical path: the likely route's call (the medium role's) starts alongside the
// categorizer, and the label confirms it (its answer is used) or refutes it (it is aborted, and what it cost
// is recorded as speculative waste). A streamed answer is held until the label is known.

// Signals when the medium model has been asked, so the categorizer can be made to answer only after it: a
// label that arrives before the answer starts would prove nothing about running alongside.
function mediumAsked() {
  let mark: () => void = () => {};
  const asked = new Promise<void>((resolve) => {
    mark = resolve;
  });
  return { asked, mark };
}

const label = (content: string, delayMs = 0): FakeReply => ({
  kind: "text",
  content,
  promptTokens: 50,
  completionTokens: 1,
  cost: 0.000001,
  delayMs,
});

async function streamText(
  t: TestApp,
  body: unknown,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await res.text();
  const text = raw
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? "")
    .join("");
  return { status: res.status, text, headers: res.headers };
}

async function speculationCounts(t: TestApp): Promise<Record<string, string>> {
  const families = parsePrometheusTextFormat((await t.get("/metrics")).body as string);
  const family = families.find((f) => f.name === "orchestrator_speculations_total");
  return Object.fromEntries(
    (family?.metrics ?? []).map((m) => {
      const sample = m as { labels?: { outcome?: string }; value?: string };
      return [sample.labels?.outcome ?? "", sample.value ?? ""];
    }),
  );
}

describe("speculation: the likely route alongside the categorizer", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake, config: { routing: { speculate: { enabled: true } } } });
  });
  beforeEach(() => fake.clear());
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("uses the medium answer it started when the label confirms M, with no waste", async () => {
    const medium = mediumAsked();
    fake.respondWith(async (request: RecordedRequest): Promise<FakeReply> => {
      if (request.body.model === models.categorizer) {
        await medium.asked;
        return label("M");
      }
      medium.mark();
      return {
        kind: "text",
        content: `medium answer to ${lastUserText(request)}`,
        promptTokens: 100,
        completionTokens: 20,
        cost: 0.0002,
      };
    });
    const res = await t.post("/chat", { message: "what are the benefits of renewable energy?" });
    assert.equal(res.status, 200);
    assert.equal(
      res.body.routing.categorizer.source,
      "model",
      "the label came from the categorizer, not a fallback",
    );
    assert.equal(res.body.routing.speculation, "confirmed");
    assert.equal(res.body.model, models.medium);
    assert.match(res.body.response, /^medium answer to what are the benefits/);
    // One categorizer call and one answer: nothing made twice.
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(res.body.usage, { prompt_tokens: 150, completion_tokens: 21, cost_usd: 0.000201 });
    assert.match(
      res.body.routing.trace.find((s: { step: string }) => s.step === "speculation").detail,
      /confirmed/,
    );
  });

  it("aborts the medium call when the label refutes it, answers from the right route, and records the waste", async () => {
    const before = (await t.get("/stats")).body.routing.speculation;
    fake.respondWith(refutedSpeculationResponder());
    const res = await t.post("/chat", { message: "prove that there are infinitely many primes" });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "L");
    assert.equal(res.body.model, models.thinking);
    assert.equal(res.body.response, "the thinking answer");
    assert.equal(res.body.routing.speculation, "refuted");
    assert.equal(requestsTo(fake.requests, models.medium).length, 1);

    // The aborted call read its whole prompt: its estimated cost is part of the request's usage.
    const known = 0.000001 + 0.003;
    assert.ok(res.body.usage.cost_usd > known, `usage ${res.body.usage.cost_usd} includes the waste`);
    assert.ok(res.body.usage.prompt_tokens > 150);

    const stats = (await t.get("/stats")).body;
    const speculation = stats.routing.speculation;
    assert.equal(speculation.refuted, before.refuted + 1);
    assert.equal(speculation.wasted_calls, before.wasted_calls + 1);
    assert.ok(speculation.wasted_usd > before.wasted_usd);
    assert.ok(speculation.share_of_spend > 0 && speculation.share_of_spend < 1);
    const mediumRow = stats.models.find((m: { model: string }) => m.model === models.medium);
    assert.ok(mediumRow.cost_usd > 0, "the waste counts in spend");
    assert.equal((await speculationCounts(t)).refuted, String(speculation.refuted));
    const metrics = (await t.get("/metrics")).body as string;
    assert.match(metrics, /orchestrator_upstream_calls_total\{[^}]*purpose="speculative"[^}]*\} 1/);
    const waste = /^orchestrator_speculative_waste_usd_total (\S+)$/m.exec(metrics)?.[1];
    assert.ok(Number(waste) > 0, `waste in /metrics: ${waste}`);
  });

  it("aborts the medium call when the label says H, and starts the workflow", async () => {
    const medium = mediumAsked();
    fake.respondWith(async (request: RecordedRequest): Promise<FakeReply> => {
      if (request.body.model === models.categorizer) {
        await medium.asked;
        return label("H");
      }
      if (request.body.model === models.medium) {
        medium.mark();
        return { kind: "hang" };
      }
      return { kind: "text", content: "On it: a plan is being made." };
    });
    const res = await t.post("/chat", { message: "write a launch plan with research, copy and images" });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "H");
    assert.equal(res.body.routing.speculation, "refuted");
    assert.ok(res.body.workflow_id);
  });

  it("holds a streamed speculative answer until the label: a refuted route's text never reaches the client", async () => {
    const medium = mediumAsked();
    fake.respondWith(async (request: RecordedRequest): Promise<FakeReply> => {
      if (request.body.model === models.categorizer) {
        await medium.asked;
        // Long enough for the medium stream's first chunks to have arrived and been held.
        return label("L", 100);
      }
      if (request.body.model === models.medium) {
        medium.mark();
        return { kind: "text", content: "WRONG ROUTE ".repeat(200), chunkSize: 12, chunkDelayMs: 5 };
      }
      return { kind: "text", content: "the right route's answer", chunkSize: 5 };
    });
    const res = await streamText(t, {
      model: "auto",
      stream: true,
      messages: [{ role: "user", content: "prove it" }],
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, "the right route's answer");
    assert.doesNotMatch(res.text, /WRONG/);
    assert.match(
      res.headers.get("x-orchestrator-route") ?? "",
      /category=L;.*speculation=refuted; pick=thinking_ai/,
    );
  });

  it("streams the held text and the rest once the label confirms it", async () => {
    const medium = mediumAsked();
    fake.respondWith(async (request: RecordedRequest): Promise<FakeReply> => {
      if (request.body.model === models.categorizer) {
        await medium.asked;
        return label("M", 50);
      }
      medium.mark();
      return {
        kind: "text",
        content: "one two three four five six seven eight",
        chunkSize: 4,
        chunkDelayMs: 5,
      };
    });
    const res = await streamText(t, {
      model: "auto",
      stream: true,
      messages: [{ role: "user", content: "count" }],
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, "one two three four five six seven eight");
    assert.match(
      res.headers.get("x-orchestrator-route") ?? "",
      /category=M; label=model; categorizer_ms=\d+; speculation=confirmed; pick=medium_ai/,
    );
    assert.equal(fake.requests.length, 2);
  });
});

describe("the label memo", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  const alice = "alice-key-0123456789abcdef";
  const bob = "bob-key-0123456789abcdef01";

  before(async () => {
    fake = await startFakeOpenRouter({
      responder: (request) =>
        request.body.model === models.categorizer
          ? label("M")
          : { kind: "text", content: `answer to ${lastUserText(request)}` },
    });
    t = await startTestApp({
      fake,
      config: { routing: { memo: { enabled: true } }, api_keys: { clients: [alice, bob] } },
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("answers a repeated question without a categorizer call, per client", async () => {
    const ask = (key: string, message: string) =>
      t.post("/chat", { message }, { authorization: `Bearer ${key}` });
    const first = await ask(alice, "What is the capital of France?");
    assert.equal(first.body.routing.categorizer.source, "model");
    const again = await ask(alice, "  what is the capital of   france? ");
    assert.equal(again.status, 200);
    assert.equal(again.body.category, "M");
    assert.equal(again.body.routing.categorizer.source, "memo");
    assert.equal(
      again.body.routing.trace.find((s: { step: string }) => s.step === "memo")?.detail.includes("M"),
      true,
    );
    assert.equal(requestsTo(fake.requests, models.categorizer).length, 1);
    // Another client's label is its own.
    const bobs = await ask(bob, "What is the capital of France?");
    assert.equal(bobs.body.routing.categorizer.source, "model");
    assert.equal(requestsTo(fake.requests, models.categorizer).length, 2);
  });
});

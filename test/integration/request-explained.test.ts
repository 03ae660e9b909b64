import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import {
  models,
  orchestrationResponder,
  refutedSpeculationResponder,
  routingResponder,
} from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// GET /requests/{id}: the route, every upstream call and the run a request started, read back from the
// request log and the cost ledger by the x-request-id of its response.

interface Call {
  purpose: string;
  role: string;
  model: string;
  outcome: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  cost_source: string;
  speculative: boolean;
  workflow_id: string | null;
}

async function getJson(
  t: TestApp,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${t.url}${path}`, { headers });
  return { status: response.status, body: await response.json() };
}

describe("one request explained", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake });
  });
  beforeEach(() => fake.clear());
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("lists the categorizer and the answer with the usage the response gave, the rule, category and trace", async () => {
    fake.respondWith(routingResponder("M"));
    const res = await t.post("/chat", { message: "what are the benefits of renewable energy?" });
    assert.equal(res.status, 200);
    const id = res.headers.get("x-request-id");
    assert.ok(id);

    const record = await getJson(t, `/requests/${id}`);
    assert.equal(record.status, 200);
    const body = record.body;
    assert.equal(body.request_id, id);
    assert.equal(body.request.endpoint, "/chat");
    assert.equal(body.request.method, "POST");
    assert.equal(body.request.status, 200);
    assert.equal(body.routing.rule, "category");
    assert.equal(body.routing.category, "M");
    assert.deepEqual(
      body.routing.trace.map((s: { step: string }) => s.step),
      res.body.routing.trace.map((s: { step: string }) => s.step),
    );
    assert.deepEqual(
      body.routing.trace.find((s: { step: string }) => s.step === "categorizer"),
      res.body.routing.trace.find((s: { step: string }) => s.step === "categorizer"),
    );

    const calls: Call[] = body.calls;
    assert.deepEqual(
      calls.map((c) => [c.purpose, c.model, c.outcome]),
      [
        ["categorize", models.categorizer, "ok"],
        ["answer", models.medium, "ok"],
      ],
    );
    assert.equal(calls[1]?.role, "medium_ai");
    assert.equal(calls[1]?.cost_source, "upstream");
    assert.deepEqual(body.totals, {
      calls: 2,
      prompt_tokens: res.body.usage.prompt_tokens,
      completion_tokens: res.body.usage.completion_tokens,
      reasoning_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: res.body.usage.cost_usd,
    });
    assert.deepEqual(
      calls.map((c) => [c.prompt_tokens, c.completion_tokens, c.cost_usd]),
      [
        [50, 1, 0.000001],
        [100, 20, 0.0002],
      ],
    );
    assert.equal(body.workflow, null);
  });

  it("names the workflow an H request started, with the run's status, and lists the run's calls", async () => {
    fake.respondWith(orchestrationResponder());
    const res = await t.post("/chat", { message: "Create a complete report with research and a summary" });
    assert.equal(res.status, 200);
    const workflowId = res.body.workflow_id;
    assert.ok(workflowId);
    const id = res.headers.get("x-request-id");
    const done = await eventually("the run to finish", async () => {
      const record = await getJson(t, `/requests/${id}`);
      return record.body.workflow?.status === "running" ? undefined : record.body;
    });
    assert.deepEqual(done.workflow, { id: workflowId, status: "completed", url: `/workflow/${workflowId}` });
    assert.equal(done.routing.category, "H");
    const runCalls = done.calls.filter((c: Call) => c.workflow_id === workflowId);
    assert.ok(
      runCalls.some((c: Call) => c.purpose === "plan"),
      `the run's plan is among the calls: ${JSON.stringify(done.calls.map((c: Call) => c.purpose))}`,
    );
  });

  it("answers 404 to an unknown id and 400 naming the id when it is malformed", async () => {
    const unknown = await getJson(t, "/requests/no-such-request");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "not_found");

    const bad = await getJson(t, `/requests/${encodeURIComponent("bad id!")}`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /\bid\b/);
    const long = await getJson(t, `/requests/${"a".repeat(129)}`);
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /\bid\b.*128/);
  });
});

describe("one request explained: a refuted speculation", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake, config: { routing: { speculate: { enabled: true } } } });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("marks the aborted call of the likely route as speculative", async () => {
    fake.respondWith(refutedSpeculationResponder());
    const res = await t.post("/chat", { message: "prove that there are infinitely many primes" });
    assert.equal(res.body.routing.speculation, "refuted");
    const record = (await getJson(t, `/requests/${res.headers.get("x-request-id")}`)).body;
    const speculative = record.calls.filter((c: Call) => c.speculative);
    assert.equal(speculative.length, 1);
    assert.equal(speculative[0].purpose, "speculative");
    assert.equal(speculative[0].model, models.medium);
    assert.equal(speculative[0].cost_source, "estimate");
    assert.ok(
      record.routing.trace.some(
        (s: { step: string; detail: string }) => s.step === "speculation" && /refuted/.test(s.detail),
      ),
    );
    assert.equal(record.calls.find((c: Call) => c.purpose === "answer")?.model, models.thinking);
  });
});

describe("one request explained: only to the client that made it", () => {
  const alice = "sk-request-record-alice";
  const bob = "sk-request-record-bob";
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ config: { api_keys: { clients: [alice, bob] } } });
    t.fake?.respondWith(routingResponder("M"));
  });
  after(() => t.close());

  const chat = (key: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ message: "what are the benefits of renewable energy?" }),
    });

  it("answers the owner and tells another client it was not found, as an unknown id", async () => {
    const res = await chat(alice);
    assert.equal(res.status, 200);
    const id = res.headers.get("x-request-id");
    const own = await getJson(t, `/requests/${id}`, { authorization: `Bearer ${alice}` });
    assert.equal(own.status, 200);
    assert.equal(own.body.calls.length, 2);

    const other = await getJson(t, `/requests/${id}`, { authorization: `Bearer ${bob}` });
    const unknown = await getJson(t, "/requests/no-such-request", { authorization: `Bearer ${bob}` });
    assert.equal(other.status, 404);
    assert.deepEqual(
      { ...other.body.error, message: other.body.error.message.replace(String(id), "<id>") },
      { ...unknown.body.error, message: unknown.body.error.message.replace("no-such-request", "<id>") },
    );
    const anonymous = await getJson(t, `/requests/${id}`);
    assert.equal(anonymous.status, 401);
  });

  it("shows a client reusing another's request id only its own request", async () => {
    const first = await chat(alice);
    const id = String(first.headers.get("x-request-id"));
    const reused = await chat(bob, { "x-request-id": id });
    assert.equal(reused.headers.get("x-request-id"), id);
    const bobs = await getJson(t, `/requests/${id}`, { authorization: `Bearer ${bob}` });
    assert.equal(bobs.status, 200);
    assert.equal(bobs.body.calls.length, 2, "bob's two calls, none of alice's");
    assert.equal(bobs.body.earlier_requests, undefined);
  });
});

describe("one request explained: after a restart", () => {
  it("reads the record back from the database file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "request-record-"));
    const databaseUrl = `sqlite:${join(dir, "store.sqlite")}`;
    const fake = await startFakeOpenRouter();
    try {
      fake.respondWith(routingResponder("M"));
      const first = await startTestApp({ fake, databaseUrl });
      const res = await first.post("/chat", { message: "what are the benefits of renewable energy?" });
      const id = res.headers.get("x-request-id");
      await first.close();

      const second = await startTestApp({ fake, databaseUrl });
      try {
        const record = await getJson(second, `/requests/${id}`);
        assert.equal(record.status, 200);
        assert.equal(record.body.routing.category, "M");
        assert.equal(record.body.calls.length, 2);
        assert.ok(record.body.routing.trace.length > 0);
      } finally {
        await second.close();
      }
    } finally {
      await fake.close();
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });
});

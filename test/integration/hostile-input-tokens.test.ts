import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

// Bodies that make token counting expensive: the refusal must come fast, and the service must keep answering
// others while it works on them.

// Posts a body already serialised (so the test's own JSON.stringify does not hold up the loop it watches);
// `written` resolves once the whole body is handed to the socket.
function postRaw(t: TestApp, path: string, body: string) {
  let markWritten: () => void = () => {};
  const written = new Promise<void>((resolve) => {
    markWritten = resolve;
  });
  const response = new Promise<TestResponse>((resolve, reject) => {
    const req = request(`${t.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: new Headers(),
          body: text ? JSON.parse(text) : undefined,
        }),
      );
    });
    req.end(body, markWritten);
  });
  return { written, response };
}

// Sends the hostile request and asks /health again and again until it is answered. The service shares one
// event loop with every client: once the hostile body is in, a probe must still be answered within 100 ms
// before the hostile answer comes (unless that comes so soon that nothing can have waited long for it).
async function whileProbing(t: TestApp, hostile: () => ReturnType<typeof postRaw>) {
  const started = performance.now();
  const { written, response } = hostile();
  let settled = false;
  let writtenAt = Number.POSITIVE_INFINITY;
  let settledAt = 0;
  void written.then(() => {
    writtenAt = performance.now();
  });
  const finished = response.finally(() => {
    settled = true;
    settledAt = performance.now();
  });
  const probes: { ms: number; afterBody: boolean; inFlight: boolean }[] = [];
  while (!settled) {
    const sent = performance.now();
    const res = await fetch(`${t.url}/health`);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    probes.push({ ms: performance.now() - sent, afterBody: sent >= writtenAt, inFlight: !settled });
  }
  const answered = await finished;
  const fastInFlight = probes.filter((p) => p.afterBody && p.inFlight && p.ms < 100).length;
  const afterBodyMs = settledAt - writtenAt;
  assert.ok(
    fastInFlight > 0 || afterBodyMs < 250,
    `/health answered within 100 ms while the hostile request was in flight (${probes.length} probes, ` +
      `slowest ${Math.max(0, ...probes.map((p) => p.ms)).toFixed(0)} ms; answered ${afterBodyMs.toFixed(0)} ms after its body)`,
  );
  return { response: answered, elapsedMs: settledAt - started };
}

// Text that reads like prose, different in every message so no cache helps: about 4.5 characters a token.
function prose(bytes: number, seed: number): string {
  const words = [
    "orchestration",
    "budget",
    "model",
    "latency",
    "the",
    "of",
    "routing",
    "answer",
    "token",
    "cost",
  ];
  let text = "";
  for (let i = 0; text.length < bytes; i++) text += `${words[(i * 7 + seed) % words.length]} ${seed + i} `;
  return text.slice(0, bytes);
}

describe("hostile input: token counting never stalls the service", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake });
    // Starts the counting worker thread (it loads the tokenizer): its start is not what is measured here.
    const warm = await t.post("/v1/messages/count_tokens", {
      model: "medium_ai",
      messages: [{ role: "user", content: prose(10_000, 1) }],
    });
    assert.equal(warm.status, 200);
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("refuses 300 messages of 50 KB (15 MB) with 413 within 2 s, answering /health meanwhile", async () => {
    const messages = Array.from({ length: 300 }, (_, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content: prose(50_000, i * 1_000_003),
    }));
    messages.push({ role: "user", content: "and?" });
    const body = JSON.stringify({ model: "auto", messages });
    fake.clear();
    const { response, elapsedMs } = await whileProbing(t, () => postRaw(t, "/v1/chat/completions", body));
    assert.equal(response.status, 413, JSON.stringify(response.body).slice(0, 300));
    assert.equal(response.body.error.code, "context_too_large");
    // Far past the limit: refused on a sample of the text, without counting it.
    assert.match(
      response.body.error.message,
      /about \d+ tokens \(estimated from a sample of its text\), above the limit of 900000/,
    );
    assert.ok(elapsedMs < 2_000, `refused in ${elapsedMs.toFixed(0)} ms`);
    assert.equal(fake.requests.length, 0, "no model was called");
  });

  it("refuses 30 messages of 50 KB of dense text (a token a byte) with 413 within 2 s, answering /health meanwhile", async () => {
    // 30 messages of 50 KB, each small enough to have been counted on the event loop.
    const messages = Array.from({ length: 30 }, (_, i) => ({
      role: "user",
      content: `${i}:${"1,2,3,4,5,6,7,8,9,".repeat(50_000 / 18)}`,
    }));
    const body = JSON.stringify({ model: "medium_ai", messages });
    const { response, elapsedMs } = await whileProbing(t, () => postRaw(t, "/v1/chat/completions", body));
    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, "context_too_large");
    // Near enough the limit that a sample cannot tell: counted until the count passes it.
    assert.match(response.body.error.message, /at least \d+ tokens, above the limit of 900000/);
    assert.ok(elapsedMs < 2_000, `refused in ${elapsedMs.toFixed(0)} ms`);
  });

  it("counts /v1/messages/count_tokens exactly off the event loop", async () => {
    const text = prose(1_500_000, 7);
    const body = JSON.stringify({ model: "medium_ai", messages: [{ role: "user", content: text }] });
    const { response } = await whileProbing(t, () => postRaw(t, "/v1/messages/count_tokens", body));
    assert.equal(response.status, 200);
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    assert.equal(response.body.input_tokens, countTokens(text));
  });

  describe("item_reference amplification", () => {
    let itemId: string;

    before(async () => {
      fake.respondWith(() => ({ kind: "text", content: prose(60_000, 3) }));
      const stored = await t.post("/v1/responses", { model: "medium_ai", input: "write a long answer" });
      assert.equal(stored.status, 200);
      itemId = stored.body.output[0].id;
    });

    it("refuses thousands of references to one stored 60 KB item with 413 naming the limit, within 2 s", async () => {
      const input = [
        ...Array.from({ length: 4_000 }, () => ({ type: "item_reference", id: itemId })),
        { role: "user", content: "summarise" },
      ];
      const body = JSON.stringify({ model: "medium_ai", input });
      fake.clear();
      const { response, elapsedMs } = await whileProbing(t, () => postRaw(t, "/v1/responses", body));
      assert.equal(response.status, 413);
      assert.equal(response.body.error.code, "input_too_large");
      assert.equal(response.body.error.param, "input");
      assert.match(response.body.error.message, /more than 16777216 characters.*system\.maxBodyBytes/);
      assert.ok(elapsedMs < 2_000, `refused in ${elapsedMs.toFixed(0)} ms`);
      assert.equal(fake.requests.length, 0);
    });

    it("refuses more than 4096 input items with 400 naming the limit", async () => {
      const input = Array.from({ length: 20_000 }, () => ({ type: "item_reference", id: itemId }));
      const { response, elapsedMs } = await whileProbing(t, () =>
        postRaw(t, "/v1/responses", JSON.stringify({ model: "medium_ai", input })),
      );
      assert.equal(response.status, 400);
      assert.equal(response.body.error.param, "input");
      assert.match(response.body.error.message, /20000 items, more than the limit of 4096/);
      assert.ok(elapsedMs < 2_000, `refused in ${elapsedMs.toFixed(0)} ms`);
    });

    it("still expands a few references", async () => {
      fake.respondWith(() => ({ kind: "text", content: "ok" }));
      const res = await t.post("/v1/responses", {
        model: "medium_ai",
        input: [
          { type: "item_reference", id: itemId },
          { type: "item_reference", id: itemId },
          { role: "user", content: "compare" },
        ],
      });
      assert.equal(res.status, 200);
      assert.equal(fake.requests.at(-1)?.body.messages.length, 3);
    });
  });
});

describe("hostile input: the offline mode counts no large prompt on the event loop", () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ mode: "offline" });
  });
  after(async () => {
    await t.close();
  });

  it("answers 1 MB of text without spaces (slow to tokenize) while /health keeps answering", async () => {
    // Under the context limit, so it is answered: the simulated model reports usage for it, which it must
    // not count with the tokenizer on the main thread (a run without spaces takes it minutes).
    const body = JSON.stringify({ message: "q".repeat(1_000_000) });
    const { response } = await whileProbing(t, () => postRaw(t, "/chat", body));
    assert.equal(response.status, 200);
    assert.ok(response.body.usage.prompt_tokens > 0);
  });
});

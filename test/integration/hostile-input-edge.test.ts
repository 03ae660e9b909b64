import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { type FakeGoogleAi, startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// Hostile bodies refused at the API edge, against a real server in front of a fake upstream.

// A JSON value nested `levels` deep, written as text (JSON.stringify could not write it either).
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

const deep = nested(5_000);
const userTurn = '[{"role":"user","content":"hello"}]';

const hostileBodies: ReadonlyArray<readonly [string, string, string]> = [
  [
    "chat completions tools[].function.parameters",
    "/v1/chat/completions",
    `{"model":"medium_ai","messages":${userTurn},"tools":[{"type":"function","function":{"name":"f","parameters":{"x":${deep}}}}]}`,
  ],
  [
    "chat completions on an internal role",
    "/v1/chat/completions",
    `{"model":"categorizer_ai","messages":${userTurn},"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
  ],
  [
    "chat completions response_format.json_schema.schema",
    "/v1/chat/completions",
    `{"model":"fast_ai","messages":${userTurn},"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${deep}}}}`,
  ],
  [
    "responses tools[].parameters",
    "/v1/responses",
    `{"model":"medium_ai","input":"hello","tools":[{"type":"function","name":"f","parameters":${deep}}]}`,
  ],
  [
    "messages tools[].input_schema",
    "/v1/messages",
    `{"model":"medium_ai","max_tokens":64,"messages":${userTurn},"tools":[{"name":"f","input_schema":${deep}}]}`,
  ],
  [
    "messages tool_use.input",
    "/v1/messages",
    `{"model":"medium_ai","max_tokens":64,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":${deep}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`,
  ],
  [
    "messages count_tokens",
    "/v1/messages/count_tokens",
    `{"model":"medium_ai","messages":${userTurn},"tools":[{"name":"f","input_schema":${deep}}]}`,
  ],
  ["/chat", "/chat", `{"message":"hello","extra":${deep}}`],
  [
    "/workflow",
    "/workflow",
    `{"workflow":[{"type":"linear","tasks":[{"model":"fast_ai","prompt":"hi","output_variable":"x"}]}],"variables":{"a":${deep}}}`,
  ],
];

async function openCircuits(t: TestApp): Promise<unknown[]> {
  const health = await t.get("/health");
  assert.equal(health.status, 200);
  return health.body.circuits.not_closed;
}

// Sends a body in two parts, so the request is provably still in flight between them.
function sendInTwoParts(url: string, path: string, first: string, rest: string) {
  const { hostname, port } = new URL(url);
  const length = Buffer.byteLength(first) + Buffer.byteLength(rest);
  let finish: () => void = () => {};
  const response = new Promise<{ status: number; body: any; done: number }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        path,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": length },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), done: performance.now() }),
        );
      },
    );
    req.on("error", reject);
    req.write(first);
    finish = () => req.end(rest);
  });
  return { response, finish: () => finish() };
}

describe("hostile input at the edge: deeply nested JSON", () => {
  const app = useFakeOpenRouterApp({ clearEachTest: true });

  for (const [what, path, body] of hostileBodies) {
    it(`refuses ${what} nested 5000 deep with a fast 400, sending nothing upstream and opening no circuit`, async () => {
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const res = await app.t.post(path, body);
        const elapsed = performance.now() - started;
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(JSON.stringify(res.body), /nests deeper than 64 levels/);
        // Anthropic's error shape has no code.
        if (!path.startsWith("/v1/messages")) assert.match(JSON.stringify(res.body), /json_too_deep/);
        assert.ok(elapsed < 2_000, `answered after ${Math.round(elapsed)} ms`);
      }
      assert.equal(app.fake.requests.filter((r) => r.method === "POST").length, 0, "nothing went upstream");
      assert.deepEqual(await openCircuits(app.t), []);
    });
  }

  it("keeps answering /health while a hostile request is in flight", async () => {
    const [, path, body] = hostileBodies[0] as (typeof hostileBodies)[number];
    const hostile = sendInTwoParts(app.t.url, path, body.slice(0, -10), body.slice(-10));
    let hostileDone = false;
    void hostile.response.then(() => {
      hostileDone = true;
    });
    const probe = await app.t.get("/health");
    assert.equal(probe.status, 200);
    assert.equal(hostileDone, false, "the probe was answered while the hostile request was in flight");
    const sent = performance.now();
    hostile.finish();
    const res = await hostile.response;
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "json_too_deep");
    assert.ok(res.done - sent < 2_000, `answered ${Math.round(res.done - sent)} ms after the body arrived`);
    assert.deepEqual(await openCircuits(app.t), []);
  });

  it("takes bodies up to the limit, and deep JSON inside strings", async () => {
    app.fake.respondWith(() => ({ kind: "text", content: "fine" }));
    // The body object and tools[0].function.parameters are 4 levels; the schema brings it to 64.
    const schema = nested(60);
    const atLimit = `{"model":"medium_ai","messages":${userTurn},"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`;
    const ok = await app.t.post("/v1/chat/completions", atLimit);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const overLimit = atLimit.replace(schema, nested(61));
    assert.equal((await app.t.post("/v1/chat/completions", overLimit)).status, 400);
    const inString = await app.t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages: [{ role: "user", content: `${"[{".repeat(200)} \\" ${'"'.repeat(3)}` }],
    });
    assert.equal(inString.status, 200, JSON.stringify(inString.body));
  });

  it("still refuses prototype poisoning and malformed JSON as before", async () => {
    const poisoned = await app.t.post("/v1/chat/completions", `{"model":"medium_ai","__proto__":{"x":1}}`);
    assert.equal(poisoned.status, 400);
    assert.equal(poisoned.body.error.code, "invalid_json");
    const malformed = await app.t.post("/chat", `{"message":"hi"`);
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, "invalid_json");
  });
});

describe("hostile input at the edge: a request that cannot be built", () => {
  const app = useFakeOpenRouterApp({ clearEachTest: true });

  // An object too deep for JSON.stringify, as a caller inside the service could still hand one over.
  function deepObject(levels: number): Record<string, unknown> {
    let value: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  }

  it("is a logical error: not retried, no fallback, nothing sent, no circuit counts it", async () => {
    const parameters = deepObject(200_000);
    const tools = [{ type: "function", function: { name: "f", parameters } }];
    for (let i = 0; i < 6; i++) {
      await assert.rejects(
        app.t.app.models.call("medium_ai", {
          messages: [{ role: "user", content: "hello" }],
          purpose: "answer",
          tools,
        }),
        (error: any) =>
          error.kind === "logical" &&
          error.code === "request_too_complex" &&
          error.status === 400 &&
          error.retryable === false,
      );
    }
    const streamed = (async () => {
      for await (const _ of app.t.app.models.stream("medium_ai", {
        messages: [{ role: "user", content: "hello" }],
        purpose: "answer",
        tools,
      }));
    })();
    await assert.rejects(streamed, (error: any) => error.code === "request_too_complex");
    assert.equal(app.fake.requests.filter((r) => r.method === "POST").length, 0, "nothing went upstream");
    assert.equal(
      app.t.logs.filter((line) => line.includes("retrying upstream call")).length,
      0,
      "no try was repeated",
    );
    assert.equal(
      app.t.logs.filter((line) => line.includes("trying the next fallback")).length,
      0,
      "no fallback was tried",
    );
    assert.deepEqual(await openCircuits(app.t), []);
  });
});

// The field a refusal names, in whichever error shape the endpoint answers with.
function refusedField(body: any): string | undefined {
  const error = body?.error ?? {};
  return error.param ?? error.field ?? /^([\w.[\]]+):/.exec(error.message ?? "")?.[1];
}

describe("hostile input at the edge: model ids", () => {
  const app = useFakeOpenRouterApp({ clearEachTest: true });
  const messages = [{ role: "user", content: "hello" }];
  const bodies = (model: string): ReadonlyArray<readonly [string, unknown, string]> => [
    ["/v1/chat/completions", { model, messages }, "model"],
    ["/v1/chat/completions", { model: "medium_ai", messages, models: [model] }, "models[0]"],
    ["/v1/responses", { model, input: "hello" }, "model"],
    ["/v1/messages", { model, max_tokens: 16, messages }, "model"],
    ["/v1/messages/count_tokens", { model, messages }, "model"],
    ["/v1/embeddings", { model, input: "hello" }, "model"],
    ["/v1/images/generations", { model, prompt: "a logo" }, "model"],
    [
      "/workflow",
      { workflow: [{ type: "linear", tasks: [{ model, prompt: "hi", output_variable: "x" }] }] },
      "workflow[0].tasks[0].model",
    ],
  ];

  it("refuses a model id past 256 characters with a 400 naming the field, without echoing it", async () => {
    for (const length of [257, 1_000_000]) {
      const model = `vendor/${"m".repeat(length - 7)}`;
      for (const [path, body, field] of bodies(model)) {
        const res = await app.t.post(path, body);
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assert.equal(refusedField(res.body), field, `${path}: ${JSON.stringify(res.body)}`);
        assert.match(JSON.stringify(res.body), /at most 256 characters/);
        assert.ok(!JSON.stringify(res.body).includes("m".repeat(100)), `${path} echoed the id`);
        assert.equal(res.headers.get("x-orchestrator-model"), null);
      }
    }
    assert.equal(app.fake.requests.filter((r) => r.method === "POST").length, 0, "nothing went upstream");
  });

  it("still takes an id of 256 characters", async () => {
    const model = `vendor/${"m".repeat(249)}`;
    for (const [path, body] of bodies(model)) {
      const res = await app.t.post(path, body);
      assert.doesNotMatch(JSON.stringify(res.body), /at most 256 characters/, path);
    }
  });
});

describe("hostile input at the edge: fields, media types and URLs", () => {
  let fake: FakeOpenRouter;
  let google: FakeGoogleAi;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    google = await startFakeGoogleAi();
    t = await startTestApp({ fake, google });
  });
  after(async () => {
    await t.close();
    await google.close();
    await fake.close();
  });

  const messages = [{ role: "user", content: "hello" }];
  const valid: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["/v1/chat/completions", { model: "medium_ai", messages }],
    ["/v1/responses", { model: "medium_ai", input: "hello" }],
    ["/v1/messages", { model: "medium_ai", max_tokens: 16, messages }],
    ["/v1/messages/count_tokens", { model: "medium_ai", messages }],
    ["/v1/embeddings", { model: "embedding_ai", input: "hello" }],
    ["/v1/images/generations", { prompt: "a logo" }],
  ];

  it("refuses an unknown field with a 400 naming it, on every /v1 endpoint", async () => {
    fake.clear();
    for (const [path, body] of valid) {
      const res = await t.post(path, { ...body, temprature: 0.2 });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(refusedField(res.body), "temprature", `${path}: ${JSON.stringify(res.body)}`);
      assert.match(JSON.stringify(res.body), /temprature: is not a known field/);
    }
    assert.equal(fake.requests.filter((r) => r.method === "POST").length, 0);
  });

  it("refuses documented fields it cannot honour saying so, and takes those it can", async () => {
    const refused: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
      ["/v1/responses", { background: true }, "background"],
      ["/v1/responses", { truncation: "auto" }, "truncation"],
      ["/v1/responses", { include: ["message.output_text.logprobs"] }, "include"],
      ["/v1/responses", { conversation: "conv_1" }, "conversation"],
      ["/v1/responses", { prompt: { id: "pmpt_1" } }, "prompt"],
      ["/v1/responses", { reasoning: { effort: "low", summary: "auto" } }, "reasoning.summary"],
      ["/v1/messages", { container: "c_1" }, "container"],
      [
        "/v1/messages",
        { mcp_servers: [{ type: "url", url: "https://x.example", name: "x" }] },
        "mcp_servers",
      ],
      ["/v1/messages", { output_config: { effort: "low" } }, "output_config"],
      ["/v1/images/generations", { output_format: "webp" }, "output_format"],
      ["/v1/images/generations", { stream: true }, "stream"],
    ];
    for (const [path, extra, field] of refused) {
      const base = valid.find(([p]) => p === path)?.[1] ?? {};
      const res = await t.post(path, { ...base, ...extra });
      assert.equal(res.status, 400, `${path} ${field}: ${JSON.stringify(res.body)}`);
      assert.equal(refusedField(res.body), field, JSON.stringify(res.body));
      assert.match(JSON.stringify(res.body), /is not supported here/);
    }

    fake.clear();
    const responses = await t.post("/v1/responses", {
      model: "medium_ai",
      input: "hello",
      store: false,
      truncation: "disabled",
      include: ["reasoning.encrypted_content"],
      background: false,
      parallel_tool_calls: true,
      prompt_cache_key: "k1",
      safety_identifier: "user-1",
      top_p: 0.5,
      reasoning: { effort: "low" },
      user: "u",
    });
    assert.equal(responses.status, 200, JSON.stringify(responses.body));
    const sentByResponses: Record<string, unknown> = fake.requests.at(-1)?.body ?? {};
    assert.equal(sentByResponses.top_p, 0.5);
    assert.equal(sentByResponses.prompt_cache_key, "k1");
    assert.equal(sentByResponses.safety_identifier, "user-1");
    assert.equal(sentByResponses.parallel_tool_calls, true);
    assert.deepEqual(sentByResponses.reasoning, { effort: "low" });

    const anthropic = await t.post("/v1/messages", {
      model: "medium_ai",
      max_tokens: 64,
      messages,
      metadata: { user_id: "u1" },
      service_tier: "auto",
      thinking: { type: "enabled", budget_tokens: 32 },
      tool_choice: { type: "auto" },
      top_p: 0.9,
      top_k: 40,
    });
    assert.equal(anthropic.status, 200, JSON.stringify(anthropic.body));
    const sentByMessages: Record<string, unknown> = fake.requests.at(-1)?.body ?? {};
    assert.equal(sentByMessages.top_p, 0.9);
    assert.equal(sentByMessages.top_k, 40);
    assert.deepEqual(sentByMessages.reasoning, { max_tokens: 32 });
  });

  it("answers a text/plain body on a JSON endpoint with 415", async () => {
    for (const path of ["/v1/chat/completions", "/v1/messages", "/chat", "/workflow"]) {
      const res = await t.post(path, '{"message":"hi"}', { "content-type": "text/plain" });
      assert.equal(res.status, 415, `${path}: ${JSON.stringify(res.body)}`);
      assert.match(JSON.stringify(res.body), /application\/json/);
    }
  });

  it("never takes an image URL's origin from the Host header", async () => {
    const spoofed = { host: "evil.example" };
    const relative = await t.post("/v1/images/generations", { prompt: "a logo" }, spoofed);
    assert.equal(relative.status, 200, JSON.stringify(relative.body));
    assert.match(relative.body.data[0].url, /^\/artifacts\/[0-9a-f-]{36}$/);
    assert.equal((await fetch(`${t.url}${relative.body.data[0].url}`)).status, 200);

    const pinned = await startTestApp({
      fake,
      google,
      config: { system: { publicUrl: "https://gateway.example.com/ai/" } },
    });
    try {
      const absolute = await pinned.post("/v1/images/generations", { prompt: "a logo" }, spoofed);
      assert.equal(absolute.status, 200, JSON.stringify(absolute.body));
      assert.match(
        absolute.body.data[0].url,
        /^https:\/\/gateway\.example\.com\/ai\/artifacts\/[0-9a-f-]{36}$/,
      );
    } finally {
      await pinned.close();
    }
  });
});

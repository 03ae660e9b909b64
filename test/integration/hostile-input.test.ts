import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { type FakeGoogleAi, fakeMp4, startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { callKind, orchestrationResponder, systemText, twoStagePlan } from "../support/responders.ts";
import { redisUrl } from "../support/services.ts";
import { finishedRun, startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

// A request as one client sends it: with its key (or none), any method, any headers.
async function send(
  t: TestApp,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (an artifact, an event stream): keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

// Each reproduction of an attack or a busy multi-client deployment, run against a real server.

describe("hostile input: memory bombs", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    t = await startTestApp({ fake, config: { orchestration: { maxPromptChars: 300_000 } } });
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  it("refuses a workflow whose prompts repeat a large variable, naming the task, before running anything", async () => {
    const tasks = Array.from({ length: 12 }, (_, i) => ({
      model: "fast_ai",
      prompt: "{a}".repeat(500),
      output_variable: `out${i}`,
    }));
    const res = await t.post("/workflow", {
      workflow: [{ type: "linear", tasks }],
      variables: { a: "x".repeat(1_000_000) },
      async: true,
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_workflow");
    assert.equal(res.body.error.field, "workflow[0].tasks[0].prompt");
    assert.match(res.body.error.message, /can grow to 500000000 characters/);
    assert.match(res.body.error.message, /orchestration\.maxPromptChars/);
    assert.equal(fake.requests.length, 0);
  });

  it("counts an earlier task's output at its max output tokens", async () => {
    const res = await t.post("/workflow", {
      workflow: [
        { type: "linear", tasks: [{ model: "fast_ai", prompt: "write", output_variable: "draft" }] },
        { type: "linear", tasks: [{ model: "fast_ai", prompt: "{draft}".repeat(80), output_variable: "x" }] },
      ],
    });
    // fast_ai may write 1024 tokens (about 4096 characters): 80 copies pass 300000.
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, "workflow[1].tasks[0].prompt");
  });

  it("fails a task whose filled-in prompt is still too long at run time with a logical error", async () => {
    fake.clear();
    fake.respondWith(() => ({ kind: "text", content: "y".repeat(120_000) }));
    const res = await t.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: [
            { model: "fast_ai", prompt: "write", output_variable: "draft", config: { max_tokens: 100 } },
          ],
        },
        {
          type: "linear",
          tasks: [{ model: "fast_ai", prompt: "{draft}{draft}{draft}", output_variable: "x" }],
        },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.error.code, "prompt_too_large");
    assert.equal(res.body.error.type, "logical");
    assert.match(res.body.error.message, /360000 characters/);
    assert.equal(fake.requests.length, 1, "the oversized prompt was never sent");
  });
});

describe("hostile input: tenants", () => {
  const alice = "alice-key-0123456789abcdef";
  const bob = "bob-key-0123456789abcdef01";
  let fake: FakeOpenRouter;
  let google: FakeGoogleAi;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    google = await startFakeGoogleAi();
    t = await startTestApp({ fake, google, config: { api_keys: { clients: [alice, bob] } } });
  });
  after(async () => {
    await t.close();
    await fake.close();
    await google.close();
  });

  it("keeps a client's session from every other client, and scopes client-chosen ids per client", async () => {
    const said = await send(t, "POST", "/chat", {
      key: alice,
      body: { message: "my password is hunter2", session_id: "optional-session-id" },
    });
    assert.equal(said.status, 200);
    assert.equal(said.body.session_id, "optional-session-id");

    assert.equal((await send(t, "GET", "/sessions/optional-session-id", { key: bob })).status, 404);
    // Bob choosing the same id gets a session of his own, and appends nothing to Alice's.
    const bobs = await send(t, "POST", "/chat", {
      key: bob,
      body: { message: "hello from bob", session_id: "optional-session-id" },
    });
    assert.equal(bobs.status, 200);
    const bobHistory = await send(t, "GET", "/sessions/optional-session-id", { key: bob });
    assert.deepEqual(
      bobHistory.body.messages.map((m: { content: string }) => m.content.includes("hunter2")),
      [false, false],
    );
    const aliceHistory = await send(t, "GET", "/sessions/optional-session-id", { key: alice });
    assert.equal(aliceHistory.body.session_id, "optional-session-id");
    assert.equal(aliceHistory.body.messages.length, 2);
    assert.equal(aliceHistory.body.messages[0].content, "my password is hunter2");

    const opened = await send(t, "POST", "/sessions", { key: alice });
    assert.equal(opened.status, 201);
    assert.equal((await send(t, "GET", `/sessions/${opened.body.session_id}`, { key: bob })).status, 404);
    assert.equal((await send(t, "GET", `/sessions/${opened.body.session_id}`, { key: alice })).status, 200);
  });

  it("keeps a client's workflows, their events and artifacts from every other client", async () => {
    const started = await send(t, "POST", "/workflow", {
      key: alice,
      body: {
        workflow: [
          {
            type: "linear",
            tasks: [{ model: "image_generation_ai", prompt: "a private sketch", output_variable: "sketch" }],
          },
        ],
      },
    });
    assert.equal(started.status, 200);
    assert.equal(started.body.status, "completed");
    const id = started.body.workflow_id;
    const artifact = started.body.outputs.sketch;
    assert.match(artifact, /^\/artifacts\//);

    for (const [method, path] of [
      ["GET", `/workflow/${id}`],
      ["DELETE", `/workflow/${id}`],
      ["POST", `/workflow/${id}/resume`],
      ["GET", `/workflow/${id}/events`],
      ["GET", artifact],
    ] as const) {
      const res = await send(t, method, path, { key: bob });
      assert.equal(res.status, 404, `${method} ${path} as another client`);
      assert.equal(res.body.error.code, "not_found");
    }
    assert.equal((await send(t, "GET", `/workflow/${id}`, { key: alice })).status, 200);
    const own = await send(t, "GET", artifact, { key: alice });
    assert.equal(own.status, 200);
    assert.match(own.headers.get("cache-control") ?? "", /^private/);

    // The run records its client by a digest of the key, never the key.
    const record = await t.app.store.getRun(id);
    assert.ok(record?.owner);
    assert.ok(!record.owner.includes(alice) && !alice.includes(record.owner));
  });

  it("keeps an image made through /v1/images/generations to the client that asked for it", async () => {
    const made = await send(t, "POST", "/v1/images/generations", { key: alice, body: { prompt: "a logo" } });
    assert.equal(made.status, 200);
    const path = new URL(made.body.data[0].url, t.url).pathname;
    assert.equal((await send(t, "GET", path, { key: alice })).status, 200);
    assert.equal((await send(t, "GET", path, { key: bob })).status, 404);
  });

  it("accepts the spec's own example session id in open mode too", async () => {
    const open = await startTestApp({ mode: "offline" });
    try {
      const res = await open.post("/chat", { message: "hi", session_id: "optional-session-id" });
      assert.equal(res.status, 200);
      assert.equal(res.body.session_id, "optional-session-id");
      assert.equal((await open.get("/sessions/optional-session-id")).body.messages.length, 2);
    } finally {
      await open.close();
    }
  });
});

describe("hostile input: client limits by identity", () => {
  it("counts made-up bearer tokens in open mode as the one address they come from", async () => {
    const t = await startTestApp({
      mode: "offline",
      config: { rateLimits: { clients: { requestsPerMinute: 10 } } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await send(t, "GET", "/models", { key: `made-up-${i}` })).status);
      }
      assert.equal(statuses.filter((s) => s === 200).length, 10);
      assert.equal(statuses.filter((s) => s === 429).length, 10);
    } finally {
      await t.close();
    }
  });

  it("gives every valid key its own allowance", async () => {
    const keys = ["first-key-0123456789abcdef", "second-key-0123456789abcdef"];
    const t = await startTestApp({
      mode: "offline",
      config: { api_keys: { clients: keys }, rateLimits: { clients: { requestsPerMinute: 3 } } },
    });
    try {
      for (const key of keys) {
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await send(t, "GET", "/models", { key })).status);
        assert.deepEqual(statuses, [200, 200, 200, 429], key);
      }
    } finally {
      await t.close();
    }
  });

  it("believes X-Forwarded-For only from a trusted proxy (system.trustProxy)", async () => {
    const config = (trustProxy: boolean) => ({
      system: { trustProxy },
      rateLimits: { clients: { requestsPerMinute: 2 } },
    });
    const direct = await startTestApp({ mode: "offline", config: config(false) });
    const proxied = await startTestApp({ mode: "offline", config: config(true) });
    try {
      const from = (t: TestApp, address: string) =>
        send(t, "GET", "/models", { headers: { "x-forwarded-for": address } });
      const spoofed = [];
      for (let i = 0; i < 3; i++) spoofed.push((await from(direct, `203.0.113.${i}`)).status);
      assert.deepEqual(spoofed, [200, 200, 429], "a forged header is no new client");
      const viaProxy = [];
      for (let i = 0; i < 3; i++) viaProxy.push((await from(proxied, `203.0.113.${i}`)).status);
      assert.deepEqual(viaProxy, [200, 200, 200], "behind a trusted proxy each forwarded address counts");
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});

describe("hostile input: smaller things found on the way", () => {
  const app = useFakeOpenRouterApp();

  it("answers an overlong id in the documented error shape", async () => {
    const res = await app.t.get(`/workflow/${"x".repeat(300)}`);
    assert.equal(res.status, 414);
    assert.equal(res.body.error.type, "logical");
    assert.equal(res.body.error.code, "uri_too_long");
    assert.equal(res.body.error.retryable, false);
    const longSession = await app.t.get(`/sessions/${"x".repeat(129)}`);
    assert.equal(longSession.status, 400);
    assert.equal(longSession.body.error.field, "id");
  });

  it("follows the events of a 30-task run without piling up close listeners", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      app.fake.respondWith(() => ({ kind: "text", content: "ok", delayMs: 2 }));
      const tasks = Array.from({ length: 30 }, (_, i) => ({
        model: "fast_ai",
        prompt: `step ${i}`,
        output_variable: `step${i}`,
      }));
      const started = await app.t.post("/workflow", { workflow: [{ type: "inline", tasks }], async: true });
      assert.equal(started.status, 202);
      const events = await fetch(`${app.t.url}/workflow/${started.body.workflow_id}/events`);
      const text = await events.text();
      assert.equal(text.match(/event: task_completed/g)?.length, 30);
      assert.match(text, /event: workflow_finished/);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((name) => name === "MaxListenersExceededWarning"),
        [],
      );
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("hostile input: slow and hung peers", () => {
  it("cuts off a client that sends its headers and then stalls its body, and keeps answering others", async () => {
    const t = await startTestApp({
      mode: "offline",
      config: { system: { timeouts: { headersMs: 200, bodyMs: 400 } } },
    });
    try {
      const { port } = new URL(t.url);
      const socket = connect(Number(port), "127.0.0.1");
      const received: Buffer[] = [];
      socket.on("data", (chunk) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.write(
        'POST /chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mess',
      );
      await closed;
      assert.match(Buffer.concat(received).toString(), /^HTTP\/1\.1 408/);
      // A socket that sends nothing, or only part of its headers, is cut off the same way.
      const silent = connect(Number(port), "127.0.0.1");
      const partial = connect(Number(port), "127.0.0.1");
      partial.on("connect", () => partial.write("GET /health HTTP/1.1\r\nHost: localhost\r\n"));
      const answers = await Promise.all(
        [silent, partial].map(
          (peer) =>
            new Promise<string>((resolve) => {
              const got: Buffer[] = [];
              peer.on("data", (chunk) => got.push(chunk));
              peer.on("close", () => resolve(Buffer.concat(got).toString()));
            }),
        ),
      );
      for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408/);
      assert.equal((await t.get("/health")).status, 200);
    } finally {
      await t.close();
    }
  });

  it("gives the categorizer its own short budget, after which the local rule decides", async () => {
    const fake = await startFakeOpenRouter();
    const t = await startTestApp({ fake, config: { routing: { categorizer: { timeoutMs: 150 } } } });
    try {
      fake.respondWith((request) =>
        request.body.model === "meta-llama/llama-3.1-8b-instruct" ||
        request.body.model === "meta-llama/llama-3.2-3b-instruct"
          ? { kind: "hang" }
          : { kind: "text", content: "an answer" },
      );
      const res = await t.post("/chat", { message: "What is the capital of France?" });
      assert.equal(res.status, 200);
      assert.equal(res.body.response, "an answer");
      assert.equal(res.body.routing.categorizer.source, "fallback");
      assert.match(res.body.routing.categorizer.fallback_reason, /categorizer failed/);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("holds a request for one deadline in all, not one per call, when the upstream hangs", async () => {
    const fake = await startFakeOpenRouter();
    const t = await startTestApp({
      fake,
      config: {
        errorHandling: { callDeadlineMs: 500 },
        routing: { categorizer: { timeoutMs: 60_000 } },
      },
    });
    try {
      fake.respondWith(() => ({ kind: "hang" }));
      const res = await t.post("/chat", { message: "What is the capital of France?" });
      assert.equal(res.status, 504);
      assert.equal(res.body.error.code, "deadline_exceeded");
      // The categorizer used up the request's time; the answering model was never called.
      const categorizerModels = ["meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.2-3b-instruct"];
      assert.ok(fake.requests.length > 0);
      assert.deepEqual(
        fake.requests.filter((r) => !categorizerModels.includes(r.body.model)).map((r) => r.body.model),
        [],
      );
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("hostile input: secrets", () => {
  it("scrubs a key an upstream echoes back from the response and from every log line", async () => {
    const upstreamKey = "sk-or-v1-0123456789abcdef0123456789abcdef";
    const fake = await startFakeOpenRouter({ apiKey: upstreamKey });
    const t = await startTestApp({ fake });
    let closed = false;
    try {
      fake.respondWith(() => ({
        kind: "error",
        status: 401,
        message: `Incorrect API key provided: Bearer ${upstreamKey}. You can find your API key at https://openrouter.ai/keys.`,
      }));
      for (const [path, body] of [
        ["/v1/chat/completions", { model: "fast_ai", messages: [{ role: "user", content: "hi" }] }],
        ["/chat", { message: "hi" }],
      ] as const) {
        const res = await t.post(path, body);
        assert.ok(res.status >= 400, `${path} answered ${res.status}`);
        const text = JSON.stringify(res.body);
        assert.match(text, /Incorrect API key provided/, "the reason is kept");
        assert.ok(!text.includes(upstreamKey), `${path} leaked the key: ${text}`);
      }
      // The failure's log line may come after the response. Closing the app waits for the requests and the
      // work they left behind, so once it has closed every line they could write is in the log.
      await t.close();
      closed = true;
      const leaking = t.logs.filter(
        (line) => line.includes(upstreamKey) || line.includes("0123456789abcdef0123"),
      );
      assert.deepEqual(leaking, []);
      assert.ok(
        t.logs.some((line) => line.includes("Incorrect API key provided")),
        "the failure is logged",
      );
    } finally {
      if (!closed) await t.close();
      await fake.close();
    }
  });

  it("sends the Google key only to the configured Google AI origin, not to a video URI on another host", async () => {
    const seen: Array<string | undefined> = [];
    const elsewhere = createServer((req, res) => {
      const key = req.headers["x-goog-api-key"];
      seen.push(typeof key === "string" ? key : undefined);
      res.writeHead(200, { "content-type": "video/mp4" });
      res.end(fakeMp4);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    const google = await startFakeGoogleAi();
    const address = elsewhere.address();
    google.videoOrigin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const t = await startTestApp({ google });
    try {
      const res = await t.post("/workflow", {
        workflow: [
          {
            type: "linear",
            tasks: [{ model: "video_generation_ai", prompt: "waves", output_variable: "clip" }],
          },
        ],
      });
      assert.equal(res.body.status, "completed", JSON.stringify(res.body.error));
      assert.deepEqual(seen, [undefined], "the other host got no key");
      assert.ok(
        google.requests.every((r) => r.apiKey === google.apiKey),
        "Google AI itself still gets it",
      );
    } finally {
      await t.close();
      await google.close();
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});

describe("hostile input: plan size and cost", () => {
  let fake: FakeOpenRouter;
  let google: FakeGoogleAi;
  let t: TestApp;
  const videos = (count: number, prefix: string) =>
    Array.from({ length: count }, (_, i) => ({
      model: "video_generation_ai",
      prompt: `clip ${i} of {request}`,
      output_variable: `${prefix}${i}`,
    }));
  // 4 stages of 50 videos: what one user message made a planner write.
  const hugePlan = { workflow: [0, 1, 2, 3].map((s) => ({ type: "linear", tasks: videos(50, `s${s}_`) })) };

  before(async () => {
    fake = await startFakeOpenRouter();
    google = await startFakeGoogleAi();
    t = await startTestApp({
      fake,
      google,
      config: {
        models: { fast_ai: { maxOutputTokens: 1000, pricing: { inputPerMillion: 1, outputPerMillion: 2 } } },
        errorHandling: { circuitBreaker: { failureThreshold: 1000 } },
      },
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
    await google.close();
  });

  it("estimates every workflow's cost before it runs and returns it, stored with the run", async () => {
    fake.clear();
    fake.respondWith(() => ({ kind: "text", content: "ok" }));
    const workflow = [{ type: "linear", tasks: [{ model: "fast_ai", prompt: "hi", output_variable: "a" }] }];
    // 1 prompt token and 200 of system prompt at $1/M, plus 1000 output tokens at $2/M.
    const expected = 0.002201;
    const sync = await t.post("/workflow", { workflow });
    assert.equal(sync.status, 200);
    assert.equal(sync.body.estimate_usd, expected);
    assert.equal((await t.get(`/workflow/${sync.body.workflow_id}`)).body.estimate_usd, expected);
    const later = await t.post("/workflow", { workflow, async: true });
    assert.equal(later.status, 202);
    assert.equal(later.body.estimate_usd, expected);
  });

  it("refuses a client's workflow estimated past orchestration.maxRunCostUsd with 402, before any call", async () => {
    const before = google.requests.length;
    const res = await t.post("/workflow", {
      workflow: [{ type: "linear", tasks: videos(20, "v") }],
      variables: { request: "waves" },
      async: true,
    });
    assert.equal(res.status, 402);
    assert.equal(res.body.error.code, "estimate_over_cap");
    // 20 videos × 8 s × $0.40 a second.
    assert.equal(res.body.error.estimate_usd, 64);
    assert.equal(res.body.error.max_run_cost_usd, 10);
    assert.equal(google.requests.length, before, "nothing was generated");
  });

  it("gives an oversized plan one repair with the limits spelled out, then fails it honestly, never running it", async () => {
    fake.clear();
    const before = google.requests.length;
    fake.respondWith(orchestrationResponder({ plan: hugePlan }));
    const res = await t.post("/chat", { message: "Make me a hundred promotional videos" });
    assert.equal(res.body.category, "H");
    const run = await finishedRun(t, res.body.workflow_id);
    assert.equal(run.status, "failed");
    assert.equal(run.error.code, "invalid_plan");
    assert.match(run.error.message, /has 200 tasks; use at most 12/);
    assert.match(run.error.message, /would cost about \$640\.00, more than the \$10/);
    assert.equal(google.requests.length, before, "no video was generated");
    const plans = fake.requests.filter((r) => callKind(r) === "plan");
    assert.equal(plans.length, 2);
    assert.match(systemText(plans[0] as (typeof plans)[number]), /never more than 12/);
    assert.match(JSON.stringify(plans[1]?.body.messages.at(-1)), /use at most 12/);
    assert.ok(run.result, "the user is told what happened");
  });

  it("refuses a plan that uses a role the planner was not offered, and runs the repaired one", async () => {
    fake.clear();
    let plans = 0;
    const sneaky = {
      workflow: [
        { type: "linear", tasks: [{ model: "categorizer_ai", prompt: "{request}", output_variable: "x" }] },
      ],
    };
    fake.respondWith(
      orchestrationResponder({
        override: (_r, kind) =>
          kind === "plan"
            ? { kind: "text", content: JSON.stringify(plans++ === 0 ? sneaky : twoStagePlan) }
            : undefined,
      }),
    );
    const res = await t.post("/chat", {
      message: "Build a complete product launch with a website, emails and ads",
    });
    const run = await finishedRun(t, res.body.workflow_id);
    assert.equal(run.status, "completed");
    const repair = fake.requests.filter((r) => callKind(r) === "plan")[1];
    assert.match(
      JSON.stringify(repair?.body.messages.at(-1)),
      /'categorizer_ai' is not one of the model roles offered/,
    );
    assert.ok(run.estimate_usd > 0);
  });
});

describe("hostile input: budgets under concurrency", () => {
  it("stops 20 parallel video tasks at the daily budget instead of spending past it", async () => {
    const google = await startFakeGoogleAi();
    const t = await startTestApp({
      google,
      config: { budgets: { perDayUsd: 5 }, orchestration: { maxRunCostUsd: 0, maxRetries: 0 } },
    });
    try {
      const tasks = Array.from({ length: 20 }, (_, i) => ({
        model: "video_generation_ai",
        prompt: `clip ${i}`,
        output_variable: `clip${i}`,
      }));
      const res = await t.post("/workflow", { workflow: [{ type: "linear", tasks }] });
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.error.code, "budget_exceeded");
      // Each video reserves 8 s × $0.40 = $3.20 before it starts: one fits in $5, the second would not.
      const made = res.body.tasks.filter((task: { status: string }) => task.status === "completed");
      assert.equal(made.length, 1);
      assert.ok(res.body.usage.cost_usd <= 5, `spent ${res.body.usage.cost_usd}`);
    } finally {
      await t.close();
      await google.close();
    }
  });

  it("never lets 20 parallel reservations from two processes pass one budget in Redis", {
    skip: redisUrl ? false : "REDIS_URL is not set",
  }, async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const race = () =>
      new Promise<number>((resolve, reject) => {
        execFile(
          process.execPath,
          [
            "--experimental-strip-types",
            "--disable-warning=ExperimentalWarning",
            new URL("../support/reserve-in-process.ts", import.meta.url).pathname,
            redisUrl ?? "",
            prefix,
            "10",
            "1",
            "5",
          ],
          (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout).granted)),
        );
      });
    const granted = await Promise.all([race(), race()]);
    // $1 each against a $5 budget: exactly five of the twenty, however the two processes interleave.
    assert.equal(granted[0] + granted[1], 5, `granted ${granted}`);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecordedRequest } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import {
  callKind,
  lastUserText,
  models,
  orchestrationResponder,
  requestsTo,
  routingResponder,
} from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

describe("POST /chat against a fake OpenRouter", () => {
  // Failures injected by one test must not open circuits for the next: breakers have their own suite.
  // The call deadline is far above what any answered call takes on a busy machine (tokenizing the large
  // context included), and far below the upstream's Retry-After in the 429 test.
  const app = useFakeOpenRouterApp({
    config: { errorHandling: { circuitBreaker: { failureThreshold: 1000 }, callDeadlineMs: 30_000 } },
    respond: routingResponder("M"),
  });

  it("categorizes, routes M to medium_ai and answers in the spec's shape", async () => {
    const res = await app.t.post("/chat", { message: "What are the benefits of renewable energy?" });
    assert.equal(res.status, 200);
    const body = res.body;
    assert.match(body.session_id, /^[0-9a-f-]{36}$/);
    assert.equal(body.category, "M");
    assert.equal(body.model, models.medium);
    assert.equal(body.role, "medium_ai");
    assert.equal(body.provider, "openrouter");
    assert.match(body.response, /answer from meta-llama\/llama-3.3-70b-instruct/);
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
    const { ms, ...categorizer } = body.routing.categorizer;
    assert.deepEqual(categorizer, { source: "model", model: models.categorizer });
    assert.ok(Number.isInteger(ms) && ms >= 0, "how long the categorizer took");
    // Every step that decided, each saying what it saw.
    assert.deepEqual(
      body.routing.trace.map((entry: { step: string }) => entry.step),
      ["limit", "pre_rule", "categorizer", "route_table", "pick"],
    );
    assert.match(body.routing.trace[2].detail, /llama-3\.1-8b-instruct said M/);
    assert.equal(body.routing.trace[4].detail, `medium_ai (${models.medium})`);
    // Usage adds up both calls, with the cost the upstream reported.
    assert.deepEqual(body.usage, { prompt_tokens: 150, completion_tokens: 21, cost_usd: 0.000201 });

    assert.deepEqual(
      app.fake.requests.map((r) => r.body.model),
      [models.categorizer, models.medium],
    );
    const categorizerCall = app.fake.requests[0];
    assert.ok(categorizerCall);
    assert.equal(categorizerCall.body.temperature, 0);
    assert.match(JSON.stringify(categorizerCall.body.messages), /benefits of renewable energy/);
    const answerCall = app.fake.requests[1];
    assert.deepEqual(answerCall?.body.messages, [
      { role: "user", content: "What are the benefits of renewable energy?" },
    ]);
    assert.equal(
      answerCall?.body.usage,
      undefined,
      "usage.include is deprecated: OpenRouter always reports usage",
    );
    assert.equal(answerCall?.headers.authorization, `Bearer ${app.fake.apiKey}`);
  });

  it("routes L to thinking_ai", async () => {
    app.fake.respondWith(routingResponder("L"));
    const res = await app.t.post("/chat", { message: "Prove there are infinitely many primes" });
    assert.equal(res.body.category, "L");
    assert.equal(res.body.model, models.thinking);
    assert.equal(requestsTo(app.fake.requests, models.thinking).length, 1);
  });

  it("reads categorizer answers given as a sentence or as JSON", async () => {
    app.fake.respondWith(routingResponder("I'd say the complexity is L."));
    assert.equal((await app.t.post("/chat", { message: "q1" })).body.category, "L");
    app.fake.respondWith(routingResponder('{"category":"M"}'));
    assert.equal((await app.t.post("/chat", { message: "q2" })).body.category, "M");
  });

  it("falls back to the local rule when the categorizer's answer is unusable, and says so", async () => {
    app.fake.respondWith(routingResponder("As an AI I cannot classify that"));
    const res = await app.t.post("/chat", { message: "What is the capital of France?" });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "M");
    assert.equal(res.body.routing.categorizer.source, "fallback");
    assert.match(res.body.routing.categorizer.fallback_reason, /unusable/);
    assert.ok(app.t.logs.some((line) => line.includes("categorizer fell back")));
  });

  it("falls back to the local rule when the categorizer call fails", async () => {
    const categorizerModels: string[] = [models.categorizer, models.categorizerFallback];
    app.fake.respondWith((request) =>
      categorizerModels.includes(request.body.model)
        ? { kind: "error", status: 500, message: "categorizer down" }
        : { kind: "text", content: "fine" },
    );
    const res = await app.t.post("/chat", { message: "Tell me about tea" });
    assert.equal(res.status, 200);
    assert.equal(res.body.routing.categorizer.source, "fallback");
    assert.match(res.body.routing.categorizer.fallback_reason, /categorizer down/);
  });

  it("sends images straight to image_analysis_ai as image parts, without categorizing", async () => {
    const image = "data:image/png;base64,iVBORw0KGgo=";
    const res = await app.t.post("/chat", {
      message: "What is in this picture?",
      images: [image, "https://example.com/a.jpg"],
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.model, models.gemini);
    assert.equal(res.body.category, null);
    assert.equal(res.body.routing.rule, "images");
    assert.equal(app.fake.requests.length, 1);
    assert.deepEqual(app.fake.requests[0]?.body.messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this picture?" },
          { type: "image_url", image_url: { url: image } },
          { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
        ],
      },
    ]);
  });

  it("forces thinking_ai above 100k context tokens and Gemini above 200k, from the client's figure", async () => {
    const thinking = await app.t.post("/chat", { message: "summarise", context_tokens: 150_000 });
    assert.equal(thinking.body.model, models.thinking);
    assert.equal(thinking.body.routing.rule, "large_context");
    const gemini = await app.t.post("/chat", { message: "summarise", context_tokens: 250_000 });
    assert.equal(gemini.body.model, models.gemini);
    assert.equal(gemini.body.routing.rule, "very_large_context");
    assert.equal(requestsTo(app.fake.requests, models.categorizer).length, 0);
  });

  it("counts the context itself with a tokenizer when the client does not say", async () => {
    // ~120k tokens of text: over the 100k threshold by the server's own count.
    const big = "alpha beta gamma delta ".repeat(30_000);
    const res = await app.t.post("/chat", { message: big });
    assert.equal(res.status, 200);
    assert.equal(res.body.model, models.thinking);
    assert.ok(res.body.routing.context_tokens > 100_000 && res.body.routing.context_tokens < 200_000);
  });

  it("refuses contexts above 900k tokens with 413, calling no model and storing nothing", async () => {
    const session = (await app.t.post("/sessions", {})).body.session_id;
    await app.t.app.sessions.settled();
    app.fake.clear();
    const res = await app.t.post("/chat", { message: "hi", context_tokens: 900_001, session_id: session });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.type, "resource");
    assert.equal(res.body.error.code, "context_too_large");
    assert.match(res.body.error.message, /900001.*900000/);
    assert.equal(app.fake.requests.length, 0);
    assert.deepEqual((await app.t.get(`/sessions/${session}`)).body.messages, []);
  });

  it("remembers the conversation and sends it with the next request", async () => {
    const first = await app.t.post("/chat", { message: "My name is Ada." });
    const sessionId = first.body.session_id;
    app.fake.clear();
    const second = await app.t.post("/chat", { message: "What is my name?", session_id: sessionId });
    assert.equal(second.body.session_id, sessionId);
    const answerCall = requestsTo(app.fake.requests, models.medium)[0];
    assert.deepEqual(
      answerCall?.body.messages.map((m) => [m.role, m.content]),
      [
        ["user", "My name is Ada."],
        ["assistant", first.body.response],
        ["user", "What is my name?"],
      ],
    );
    const history = await app.t.get(`/sessions/${sessionId}`);
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.messages.map((m: { role: string; category?: string }) => [m.role, m.category]),
      [
        ["user", "M"],
        ["assistant", "M"],
        ["user", "M"],
        ["assistant", "M"],
      ],
    );
    assert.equal(history.body.messages[1].model, models.medium);
  });

  it("continues a session under a client-chosen UUID", async () => {
    const id = "0b7e6c1a-2d3f-4a5b-9c8d-7e6f5a4b3c2d";
    assert.equal((await app.t.post("/chat", { message: "hello", session_id: id })).body.session_id, id);
    assert.equal((await app.t.get(`/sessions/${id}`)).body.messages.length, 2);
  });

  it("runs H in the background: acknowledgement now; plan, workers and final answer later", async () => {
    app.fake.respondWith(
      orchestrationResponder({
        finalAnswer: "THE FINISHED CAMPAIGN",
        override: (_request, kind) =>
          // The finisher takes 1 s, so the run is still running when the test looks, however busy the machine.
          kind === "finish" ? { kind: "text", content: "THE FINISHED CAMPAIGN", delayMs: 1_000 } : undefined,
      }),
    );
    const res = await app.t.post("/chat", {
      message:
        "Create a complete marketing campaign with social posts, product images and a promotional video",
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.category, "H");
    assert.equal(res.body.response, "On it.");
    assert.equal(res.body.model, models.fast);
    assert.match(res.body.workflow_id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.workflow_url, `/workflow/${res.body.workflow_id}`);
    const running = await app.t.get(`/workflow/${res.body.workflow_id}`);
    assert.equal(running.body.status, "running");

    const done = await eventually("the run to finish", async () => {
      const run = await app.t.get(`/workflow/${res.body.workflow_id}`);
      return run.body.status === "running" ? undefined : run;
    });
    assert.equal(done.body.status, "completed");
    assert.equal(done.body.kind, "chat");
    assert.equal(done.body.result, "THE FINISHED CAMPAIGN");
    assert.equal(done.body.model, models.thinking);
    assert.deepEqual(Object.keys(done.body.outputs).sort(), ["draft", "outline", "research"]);
    assert.deepEqual(
      done.body.tasks.map((task: { output_variable: string; status: string }) => [
        task.output_variable,
        task.status,
      ]),
      [
        ["research", "completed"],
        ["outline", "completed"],
        ["draft", "completed"],
      ],
    );
    assert.ok(
      done.body.usage.cost_usd > 0.003,
      "planner, three workers (0.001 each) and the finisher are all counted",
    );

    const kinds = app.fake.requests.map(callKind);
    assert.deepEqual(kinds.slice(0, 3), ["categorize", "acknowledge", "plan"]);
    assert.equal(kinds.at(-1), "finish");
    const plan = app.fake.requests.find((r) => callKind(r) === "plan");
    assert.equal(plan?.body.model, models.thinking);
    assert.deepEqual(plan?.body.response_format, { type: "json_object" });
    assert.match(lastUserText(plan as RecordedRequest), /complete marketing campaign/);
    const finish = app.fake.requests.find((r) => callKind(r) === "finish");
    assert.match(
      lastUserText(finish as RecordedRequest),
      /### draft\noutput for: Write it from output for: Research/,
    );

    const history = (await app.t.get(`/sessions/${res.body.session_id}`)).body.messages;
    assert.deepEqual(
      history.map((m: { role: string; content: string }) => [m.role, m.content.slice(0, 21)]),
      [
        ["user", "Create a complete mar"],
        ["assistant", "On it."],
        ["assistant", "THE FINISHED CAMPAIGN"],
      ],
    );
    assert.equal(history[2].workflow_id, res.body.workflow_id);
  });

  it("records a failed background run with the upstream's reason", async () => {
    app.fake.respondWith((request) => {
      if (request.body.model === models.categorizer) return { kind: "text", content: "H" };
      if (request.body.model === models.fast) return { kind: "text", content: "On it." };
      return { kind: "error", status: 402, message: "Insufficient credits" };
    });
    const res = await app.t.post("/chat", { message: "Build a full website with docs and tests" });
    const failed = await eventually("the run to fail", async () => {
      const run = await app.t.get(`/workflow/${res.body.workflow_id}`);
      return run.body.status === "running" ? undefined : run;
    });
    assert.equal(failed.body.status, "failed");
    assert.equal(failed.body.error.type, "persistent");
    assert.match(failed.body.error.message, /Insufficient credits/);
  });

  it("reports upstream failures as 502/503 with the upstream's reason and stores nothing", async () => {
    const sessionId = "1a2b3c4d-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    app.fake.respondWith((request) =>
      request.body.model === models.categorizer
        ? { kind: "text", content: "M" }
        : { kind: "error", status: 500, message: "provider exploded" },
    );
    const failed = await app.t.post("/chat", { message: "hi", session_id: sessionId });
    assert.equal(failed.status, 502);
    assert.equal(failed.body.error.type, "transient");
    assert.equal(failed.body.error.retryable, true);
    assert.equal(failed.body.error.model, models.medium);
    assert.match(failed.body.error.message, /provider exploded/);

    app.fake.respondWith((request) =>
      request.body.model === models.categorizer
        ? { kind: "text", content: "M" }
        : { kind: "error", status: 429, message: "rate limited upstream", retryAfterSeconds: 120 },
    );
    const limited = await app.t.post("/chat", { message: "hi", session_id: sessionId });
    assert.equal(limited.status, 503);
    assert.equal(limited.headers.get("retry-after"), "120");
    assert.equal((await app.t.get(`/sessions/${sessionId}`)).status, 404);
  });

  it("turns a malformed upstream answer into a 502, not a crash", async () => {
    app.fake.respondWith((request) =>
      request.body.model === models.categorizer ? { kind: "text", content: "M" } : { kind: "malformed" },
    );
    const res = await app.t.post("/chat", { message: "hi" });
    assert.equal(res.status, 502);
    assert.equal(typeof res.body.error.message, "string");
  });

  it("returns a request id header and never echoes or logs the API key", async () => {
    const res = await app.t.post("/chat", { message: "hello" }, { "x-request-id": "trace-123" });
    assert.equal(res.headers.get("x-request-id"), "trace-123");
    const odd = await app.t.post(
      "/chat",
      { message: "hello" },
      { "x-request-id": `evil id ${"x".repeat(300)}` },
    );
    assert.match(odd.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, "an odd request id is replaced");
    assert.ok(!app.t.logs.join("").includes(app.fake.apiKey));
    for (const path of ["/health", "/models", "/addons"]) {
      assert.ok(!JSON.stringify((await app.t.get(path)).body).includes(app.fake.apiKey), path);
    }
  });
});

describe("upstream timeouts", () => {
  it("turns a hung upstream into a 504 instead of a hang", async () => {
    const t = await startTestApp({ config: { errorHandling: { requestTimeoutMs: 300 } } });
    try {
      t.fake?.respondWith((request) =>
        request.body.model === models.categorizer ? { kind: "text", content: "M" } : { kind: "hang" },
      );
      const res = await t.post("/chat", { message: "hello?" });
      assert.equal(res.status, 504);
      assert.equal(res.body.error.code, "upstream_timeout");
      assert.equal(res.body.error.type, "resource");
    } finally {
      await t.close();
    }
  });
});

describe("history trimming", () => {
  it("sends only the turns that fit the routed model's context window", async () => {
    const t = await startTestApp({
      config: { models: { medium_ai: { contextWindow: 400, maxOutputTokens: 100 } } },
    });
    try {
      t.fake?.respondWith(routingResponder("M"));
      const first = await t.post("/chat", { message: `first ${"word ".repeat(250)}` });
      const sessionId = first.body.session_id;
      await t.post("/chat", { message: "second short", session_id: sessionId });
      t.fake?.clear();
      await t.post("/chat", { message: "third", session_id: sessionId });
      const answerCall = requestsTo(t.fake?.requests ?? [], models.medium)[0];
      const sent = answerCall?.body.messages.map((m) => String(m.content).slice(0, 12)) ?? [];
      assert.ok(!sent.some((text) => text.startsWith("first")), "the oldest, largest turn is dropped");
      assert.deepEqual(sent.slice(-3), ["second short", "answer from ", "third"]);
    } finally {
      await t.close();
    }
  });
});

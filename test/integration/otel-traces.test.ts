import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.ts";
import { models, routingResponder, workerResponder } from "../support/responders.ts";
import { clusterSkipReason, freshPostgresSchema, postgresUrl, redisUrl } from "../support/services.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// A client's own trace, continued by the service.
function clientTrace() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const spansOf = (receiver: OtlpReceiver, traceId: string) =>
  receiver.spans.filter((span) => span.traceId === traceId);

const genAi = (spans: readonly ReceivedSpan[], purpose: string) =>
  spans.filter(
    (span) => span.attributes["gen_ai.operation.name"] && span.attributes["orchestrator.purpose"] === purpose,
  );

// Waits until the trace holds a span that `match` finds.
function spanArrives(receiver: OtlpReceiver, traceId: string, match: (span: ReceivedSpan) => boolean) {
  return eventually("the span", async () => spansOf(receiver, traceId).find(match), { timeoutMs: 20_000 });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const protocol of ["http/protobuf", "http/json"] as const) {
  describe(`OpenTelemetry traces over OTLP ${protocol}`, () => {
    let fake: FakeOpenRouter;
    let receiver: OtlpReceiver;
    let t: TestApp;

    before(async () => {
      fake = await startFakeOpenRouter();
      receiver = await startOtlpReceiver();
      t = await startTestApp({
        fake,
        config: {
          monitoring: { otel: { tracesEndpoint: receiver.url, protocol, serviceName: "gateway-under-test" } },
        },
      });
    });
    after(async () => {
      await t.close();
      await fake.close();
      await receiver.close();
    });
    beforeEach(() => {
      fake.clear();
      receiver.clear();
      fake.respondWith(routingResponder("M"));
    });

    it("continues the client's traceparent: a server span, the route, and GenAI spans for the categorizer and the answer", async () => {
      const client = clientTrace();
      const res = await t.post("/chat", { message: "What are tides?" }, { traceparent: client.traceparent });
      assert.equal(res.status, 200);
      const server = await spanArrives(receiver, client.traceId, (span) => span.kind === 2);
      await spanArrives(receiver, client.traceId, (span) => genAi([span], "answer").length > 0);
      const spans = spansOf(receiver, client.traceId);
      assert.ok(
        receiver.contentTypes.every((type) => type.includes(protocol === "http/json" ? "json" : "protobuf")),
      );

      assert.equal(server.name, "POST /chat");
      assert.equal(server.parentSpanId, client.spanId);
      assert.equal(server.serviceName, "gateway-under-test");
      assert.equal(server.attributes["http.response.status_code"], 200);
      assert.equal(server.attributes["orchestrator.request_id"], res.headers.get("x-request-id"));

      const route = spans.find((span) => span.name === "orchestrator.route");
      assert.ok(route, "a routing span");
      assert.equal(route.parentSpanId, server.spanId);
      assert.equal(route.attributes["orchestrator.category"], "M");
      assert.equal(route.attributes["orchestrator.route_rule"], "category");
      assert.equal(route.attributes["orchestrator.categorizer.source"], "model");

      const [categorize] = genAi(spans, "categorize");
      const [answer] = genAi(spans, "answer");
      assert.ok(categorize && answer, `GenAI spans: ${spans.map((span) => span.name).join(", ")}`);
      for (const call of [categorize, answer]) {
        assert.equal(call.kind, 3);
        assert.equal(call.parentSpanId, server.spanId);
        assert.equal(call.attributes["gen_ai.operation.name"], "chat");
        assert.equal(call.attributes["gen_ai.provider.name"], "openrouter");
        assert.equal(call.attributes["orchestrator.retry"], 0);
        assert.equal(call.attributes["orchestrator.fallback"], false);
        assert.equal(call.attributes["orchestrator.cache_hit"], false);
        assert.equal(call.attributes["orchestrator.circuit_state"], "closed");
      }
      assert.equal(categorize.attributes["gen_ai.request.model"], models.categorizer);
      assert.equal(answer.name, `chat ${models.medium}`);
      assert.equal(answer.attributes["gen_ai.request.model"], models.medium);
      assert.equal(answer.attributes["gen_ai.response.model"], models.medium);
      assert.equal(answer.attributes["gen_ai.usage.input_tokens"], 100);
      assert.equal(answer.attributes["gen_ai.usage.output_tokens"], 20);
      assert.deepEqual(answer.attributes["gen_ai.response.finish_reasons"], ["stop"]);
      assert.equal(answer.attributes["orchestrator.role"], "medium_ai");
      assert.equal(answer.attributes["orchestrator.cost_usd"], 0.0002);

      // Neither prompts nor answers unless captureContent is on, and never the upstream key.
      for (const span of spans) {
        assert.equal(span.attributes["gen_ai.input.messages"], undefined);
        assert.equal(span.attributes["gen_ai.output.messages"], undefined);
      }
      const exported = receiver.rawBodies.join("");
      assert.ok(!exported.includes("What are tides?"), "the prompt is not exported");
      assert.ok(!exported.includes(fake.apiKey), "the upstream key is not exported");
    });

    it("marks an upstream failure with error.type and the retry number of each try", async () => {
      fake.respondWith((request) =>
        request.body.model === models.categorizer
          ? { kind: "text", content: "M" }
          : { kind: "error", status: 400, message: "this prompt is refused" },
      );
      const client = clientTrace();
      const res = await t.post("/chat", { message: "refused" }, { traceparent: client.traceparent });
      assert.notEqual(res.status, 200);
      const failed = await spanArrives(
        receiver,
        client.traceId,
        (span) => genAi([span], "answer").length > 0,
      );
      assert.equal(failed.statusCode, 2);
      assert.equal(typeof failed.attributes["error.type"], "string");
      assert.equal(failed.attributes["orchestrator.retry"], 0);
    });
  });
}

describe("OpenTelemetry traces: content capture, opted in", () => {
  let fake: FakeOpenRouter;
  let receiver: OtlpReceiver;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    receiver = await startOtlpReceiver();
    t = await startTestApp({
      fake,
      config: { monitoring: { otel: { tracesEndpoint: receiver.url, captureContent: true } } },
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
    await receiver.close();
  });

  it("records the prompt and the answer, with keys in them scrubbed", async () => {
    fake.respondWith(routingResponder("M"));
    const client = clientTrace();
    const secret = "sk-or-v1-0123456789abcdef0123456789";
    const message = `Summarise the tides please (my key is ${secret})`;
    assert.equal((await t.post("/chat", { message }, { traceparent: client.traceparent })).status, 200);
    const answer = await spanArrives(receiver, client.traceId, (span) => genAi([span], "answer").length > 0);
    const input = JSON.parse(String(answer.attributes["gen_ai.input.messages"]));
    const output = JSON.parse(String(answer.attributes["gen_ai.output.messages"]));
    const user = input.find((item: { role: string }) => item.role === "user");
    assert.match(user.parts[0].content, /Summarise the tides please/);
    assert.equal(output[0].role, "assistant");
    assert.match(output[0].parts[0].content, /^answer from /);
    assert.equal(output[0].finish_reason, "stop");
    assert.ok(!receiver.rawBodies.join("").includes(secret), "a key in the prompt is scrubbed");
  });
});

describe("OpenTelemetry traces: a dead collector", () => {
  let fake: FakeOpenRouter;
  let traced: TestApp;
  let plain: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    const port = await closedPort();
    traced = await startTestApp({
      fake,
      config: { monitoring: { otel: { endpoint: `http://127.0.0.1:${port}` } } },
    });
    plain = await startTestApp({ fake });
  });
  after(async () => {
    await traced.close();
    await plain.close();
    await fake.close();
  });

  it("changes no response, and counts the spans it could not export in /metrics", async () => {
    fake.respondWith(routingResponder("M"));
    const client = clientTrace();
    const body = { message: "What are tides?" };
    const withTracing = await traced.post("/chat", body, { traceparent: client.traceparent });
    const without = await plain.post("/chat", body, { traceparent: client.traceparent });
    assert.equal(withTracing.status, 200);
    assert.equal(withTracing.status, without.status);
    for (const field of ["response", "category", "model", "role"]) {
      assert.deepEqual(withTracing.body[field], without.body[field], field);
    }
    const lost = await eventually(
      "the export failure in the metrics",
      async () => {
        const metrics = await traced.get("/metrics");
        const match = /orchestrator_trace_spans_dropped_total\{reason="export_failed"\} (\d+)/.exec(
          metrics.body,
        );
        return match && Number(match[1]) > 0 ? Number(match[1]) : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.ok(lost >= 1);
    // A service that does not trace has no such counter.
    assert.doesNotMatch((await plain.get("/metrics")).body, /orchestrator_trace_spans_dropped_total/);
  });
});

const mainWorker = new URL("../../src/worker.ts", import.meta.url).pathname;

describe("OpenTelemetry traces: a workflow run on BullMQ workers is one trace", {
  skip: postgresUrl && redisUrl ? false : clusterSkipReason,
}, () => {
  let fake: FakeOpenRouter;
  let receiver: OtlpReceiver;
  let api: TestApp;
  let worker: ChildProcess;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let dir: string;
  const output: string[] = [];
  const cluster = { keyPrefix: `otel-${randomUUID().slice(0, 8)}`, workerConcurrency: 2 };

  before(async () => {
    fake = await startFakeOpenRouter();
    fake.respondWith(workerResponder);
    receiver = await startOtlpReceiver();
    schema = await freshPostgresSchema();
    dir = mkdtempSync(join(tmpdir(), "otel-cluster-"));
    const configFile = join(dir, "config.json");
    writeFileSync(configFile, JSON.stringify({ cluster }));
    api = await startTestApp({
      fake,
      databaseUrl: schema.url,
      redisUrl,
      config: { cluster, monitoring: { otel: { tracesEndpoint: receiver.url } } },
    });
    // The worker reads the standard variables, as a deployment would set them.
    worker = spawn(
      process.execPath,
      ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", mainWorker],
      {
        env: {
          PATH: process.env.PATH ?? "",
          DATABASE_URL: schema.url,
          REDIS_URL: redisUrl ?? "",
          OPENROUTER_API_KEY: fake.apiKey,
          OPENROUTER_BASE_URL: fake.baseUrl,
          ORCHESTRATION_CONFIG: configFile,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1\/traces$/, ""),
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "orchestrator-worker",
          LOG_LEVEL: "INFO",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    worker.stdout?.on("data", (chunk: Buffer) => output.push(String(chunk)));
    worker.stderr?.on("data", (chunk: Buffer) => output.push(String(chunk)));
    await eventually(
      "the worker to join the cluster",
      async () => {
        const stats = await api.get("/stats");
        return stats.body.cluster?.workers.length === 1 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  });
  after(async () => {
    worker?.kill("SIGKILL");
    await api?.close();
    await fake?.close();
    await receiver?.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("carries the request's trace through the queue to the worker's run, tasks and model calls", async () => {
    const client = clientTrace();
    const res = await api.post(
      "/workflow",
      {
        workflow: [
          {
            type: "linear",
            tasks: [
              { model: "fast_ai", prompt: "first part", output_variable: "a" },
              { model: "fast_ai", prompt: "second part", output_variable: "b" },
            ],
          },
        ],
      },
      { traceparent: client.traceparent },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, "completed", output.join(""));
    await eventually(
      "every task's spans",
      async () => {
        const spans = spansOf(receiver, client.traceId);
        const calls = spans.filter((span) => span.attributes["orchestrator.purpose"] === "task");
        const tasks = spans.filter((span) => span.name === "workflow.task");
        return calls.length >= 2 && tasks.length >= 2 && spans.some((span) => span.kind === 2)
          ? true
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const spans = spansOf(receiver, client.traceId);
    const server = spans.find((span) => span.kind === 2);
    assert.equal(server?.serviceName, "master-ai-orchestrator");
    assert.equal(server?.parentSpanId, client.spanId);
    const runs = spans.filter((span) => span.name === "workflow.run");
    assert.ok(runs.length >= 1);
    assert.ok(runs.every((run) => run.kind === 5 && run.serviceName === "orchestrator-worker"));
    assert.ok(runs.every((run) => run.parentSpanId === server?.spanId));
    const runIds = new Set(runs.map((run) => run.spanId));
    const tasks = spans.filter((span) => span.name === "workflow.task");
    assert.ok(
      tasks.every((task) => runIds.has(task.parentSpanId)),
      "each task under a pass of its run",
    );
    assert.ok(tasks.every((task) => task.attributes["orchestrator.workflow_id"] === res.body.workflow_id));
    const taskIds = new Set(tasks.map((task) => task.spanId));
    const calls = spans.filter((span) => span.attributes["orchestrator.purpose"] === "task");
    assert.ok(
      calls.every((call) => taskIds.has(call.parentSpanId)),
      "each model call under its task",
    );
  });
});

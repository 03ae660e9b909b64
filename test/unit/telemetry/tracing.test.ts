import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { traceCall } from "../../../src/resilience/call-span.ts";
import { startTracing, tracingOff } from "../../../src/telemetry/tracing.ts";
import { tracingSettings } from "../../../src/telemetry/tracing-settings.ts";
import { upstreamCall } from "../../support/upstream-call.ts";

const neverLoaded = async (): Promise<never> => {
  throw new Error("the OpenTelemetry SDK was loaded with tracing off");
};

describe("tracing facade", () => {
  it("is off with no endpoint: no settings, the SDK never loaded, no spans", async () => {
    const config = parseConfig({}, {});
    const settings = tracingSettings(config, "1.0.0");
    assert.equal(settings, undefined);
    const tracing = await startTracing(settings, { load: neverLoaded });
    assert.equal(tracing, tracingOff);
    assert.equal(
      tracing.startSpan("GET /x", { kind: "server", parent: { traceparent: "00-x-y-01" } }),
      undefined,
    );
    assert.equal(tracing.continueFrom({ traceparent: "00-x-y-01" }), undefined);
    await tracing.shutdown();
  });

  it("is off when OTEL_SDK_DISABLED is true, even with an endpoint", async () => {
    const config = parseConfig(
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" },
    );
    assert.equal(tracingSettings(config, "1.0.0"), undefined);
  });

  it("records no call span without a parent span (tracing off)", () => {
    // Nothing to assert but that it neither throws nor needs a tracer.
    traceCall(undefined, upstreamCall(), { attempt: 1 }, Date.now());
  });

  it("puts a call's prompt-cache counts on its span as the GenAI conventions name them", () => {
    const recorded: Record<string, unknown> = {};
    const span = {
      capturesContent: false,
      set: () => {},
      fail: () => {},
      end: () => {},
      carrier: () => ({}),
      child(_name: string, options?: { attributes?: Record<string, unknown> }) {
        Object.assign(recorded, options?.attributes);
        return span;
      },
    };
    const call = { ...upstreamCall(), promptTokens: 900, cacheReadTokens: 512, cacheWriteTokens: 256 };
    traceCall(span, call, { attempt: 1 }, Date.now());
    assert.equal(recorded["gen_ai.usage.input_tokens"], 900);
    assert.equal(recorded["gen_ai.usage.cache_read.input_tokens"], 512);
    assert.equal(recorded["gen_ai.usage.cache_creation.input_tokens"], 256);
    traceCall(span, upstreamCall(), { attempt: 1 }, Date.now());
    assert.equal(
      recorded["gen_ai.usage.cache_read.input_tokens"],
      undefined,
      "absent when nothing was cached",
    );
  });

  it("loads the SDK once an endpoint is configured", async () => {
    const config = parseConfig({ monitoring: { otel: { endpoint: "http://127.0.0.1:4318/" } } }, {});
    const settings = tracingSettings(config, "1.0.0");
    assert.equal(settings?.url, "http://127.0.0.1:4318/v1/traces");
    let loaded = 0;
    const tracing = await startTracing(settings, {
      load: async () => {
        loaded++;
        return { startOtelTracing: () => tracingOff };
      },
    });
    assert.equal(loaded, 1);
    assert.equal(tracing, tracingOff);
  });
});

describe("monitoring.otel from the standard OpenTelemetry variables", () => {
  it("reads endpoint, traces endpoint, headers, protocol, service name and ratio", () => {
    const config = parseConfig(
      { monitoring: { otel: { serviceName: "from-file", captureContent: true } } },
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/api/public/otel/v1/traces",
        OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20cGs6c2s=, x-tenant = blue",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "gateway",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      },
    );
    const otel = config.monitoring.otel;
    assert.equal(otel.endpoint, "https://collector.example:4318");
    assert.deepEqual(otel.headers, { Authorization: "Basic cGs6c2s=", "x-tenant": "blue" });
    assert.equal(otel.protocol, "http/json");
    assert.equal(otel.serviceName, "gateway");
    assert.equal(otel.sampleRatio, 0.25);
    assert.equal(otel.captureContent, true);
    // The signal's own URL is used as it is.
    assert.equal(tracingSettings(config, "1")?.url, "https://traces.example/api/public/otel/v1/traces");
  });

  it("refuses an unknown protocol and a header entry that is not key=value, naming the variable", () => {
    assert.throws(
      () =>
        parseConfig(
          {},
          { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
        ),
      /monitoring\.otel\.protocol/,
    );
    assert.throws(
      () => parseConfig({}, { OTEL_EXPORTER_OTLP_HEADERS: "novalue" }),
      /OTEL_EXPORTER_OTLP_HEADERS/,
    );
  });
});

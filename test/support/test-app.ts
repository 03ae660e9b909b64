import { Writable } from "node:stream";
import { type App, createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/index.ts";
import type { Clock } from "../../src/core/clock.ts";
import type { Sleeper } from "../../src/core/sleeper.ts";
import { createLogger } from "../../src/logger.ts";
import type { FakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "./eventually.ts";

export interface TestApp {
  readonly app: App;
  readonly url: string;
  readonly fake: FakeOpenRouter | undefined;
  readonly logs: string[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  get(path: string): Promise<TestResponse>;
  delete(path: string): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export interface TestAppOptions {
  // "live" starts a fake OpenRouter and points the service at it; "offline" runs with no key.
  readonly mode?: "live" | "offline";
  readonly config?: Record<string, unknown>;
  readonly fake?: FakeOpenRouter;
  readonly google?: FakeGoogleAi;
  readonly random?: () => number;
  readonly sleep?: Sleeper;
  // The service's clock; a test may move it on instead of waiting.
  readonly clock?: Clock;
  // Defaults to an in-memory database; a sqlite: URL keeps data across app restarts.
  readonly databaseUrl?: string;
  // Workflows then run on queue workers in Redis.
  readonly redisUrl?: string;
  readonly maxTrackedBudgets?: number;
  // More environment variables (another provider's key and base URL, say).
  readonly env?: NodeJS.ProcessEnv;
}

// Starts the real server on a random port with an in-memory store and, in live mode, a fake upstream.
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const mode = options.mode ?? "live";
  const ownFake = mode === "live" && !options.fake;
  const fake = mode === "live" ? (options.fake ?? (await startFakeOpenRouter())) : undefined;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: options.databaseUrl ?? ":memory:",
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(fake ? { OPENROUTER_API_KEY: fake.apiKey, OPENROUTER_BASE_URL: fake.baseUrl } : {}),
    ...(options.google
      ? { GOOGLE_AI_API_KEY: options.google.apiKey, GOOGLE_AI_BASE_URL: options.google.baseUrl }
      : {}),
    ...options.env,
  };
  // Retries and video polls wait milliseconds, not seconds, unless a test asks otherwise.
  // Speculation (the likely route's call alongside the categorizer) and the label memo are off unless a test
  // turns them on: most suites assert the upstream calls a request makes, in order, one label per request.
  // The router's own suites test both, and the compiled service's tests run with the shipped defaults.
  const defaults = {
    system: { logLevel: "info" },
    errorHandling: { retry: { baseDelayMs: 1, maxDelayMs: 4 } },
    providers: { google_ai: { pollIntervalMs: 5 } },
    routing: { speculate: { enabled: false }, memo: { enabled: false } },
  };
  const config = parseConfig(deepMerge(defaults, options.config ?? {}), env, "test");
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await createApp({
    config,
    logger: createLogger("debug", sink),
    ...(options.random ? { random: options.random } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.maxTrackedBudgets ? { maxTrackedBudgets: options.maxTrackedBudgets } : {}),
  });
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.server.address();
  if (address === null || typeof address === "string") throw new Error("server has no TCP address");
  const url = `http://127.0.0.1:${address.port}`;

  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    const response = await fetch(`${url}${path}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  return {
    app,
    url,
    fake,
    logs,
    post: (path, body, headers) => request("POST", path, body, headers),
    get: (path) => request("GET", path),
    delete: (path) => request("DELETE", path),
    close: async () => {
      await app.close(1_000);
      if (ownFake) await fake?.close();
    },
  };
}

// The record of a run started with `async: true`, once it has stopped running.
export function finishedRun(t: TestApp, id: string): Promise<any> {
  return eventually(`run ${id} to finish`, async () => {
    const run = await t.get(`/workflow/${id}`);
    return run.body.status === "running" ? undefined : run.body;
  });
}

export function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const repoRoot = new URL("../../", import.meta.url).pathname;
const strip = ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"];

export interface Running {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    });
}

async function waitForHttp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${what} did not start within 30 s`);
}

export async function startUpstream(latencyMs: number): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...strip, join(repoRoot, "bench/lib/fixed-latency-upstream.ts"), String(port), String(latencyMs)],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child, "the fake upstream");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// The time-to-first-byte benchmark's upstream: labels categorizer calls from a marker in the text, plans
// H requests, and counts the calls whose client hung up (see labelling-upstream.ts).
export async function startLabellingUpstream(settings: {
  readonly latencyMs: number;
  readonly streamTailMs: number;
  readonly categorizerModels: readonly string[];
  readonly answerTokens: number;
}): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...strip, join(repoRoot, "bench/lib/labelling-upstream.ts"), JSON.stringify({ port, ...settings })],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child, "the labelling upstream");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// A collector that accepts OTLP/HTTP exports and discards them (see otlp-sink.ts).
export async function startOtlpSink(): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [...strip, join(repoRoot, "bench/lib/otlp-sink.ts"), String(port)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child, "the OTLP sink");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// The reference: a bare node:http + undici pass-through proxy in front of the same upstream.
export async function startRawProxy(upstreamUrl: string): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...strip, join(repoRoot, "bench/lib/raw-proxy.ts"), String(port), upstreamUrl],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child, "the raw proxy");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// The reference for event-loop delay under a burst: a bare node:http server that answers 202 to any POST.
export async function startBareServer(): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...strip, join(repoRoot, "bench/lib/bare-server.ts"), String(port)],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/event-loop-delay`, child, "the bare server");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// npm start's build step: the compiled service in dist/, rebuilt when its sources changed.
export function buildService(): void {
  const build = spawnSync(process.execPath, [join(repoRoot, "scripts/build-server.mjs")], {
    stdio: "inherit",
  });
  if (build.status !== 0) throw new Error("the service did not build");
}

// The environment the orchestrator runs in for a benchmark: a fresh data folder, a config made for the
// run, and the given upstream standing in for OpenRouter.
export function orchestratorEnv(
  upstreamUrl: string,
  config: Record<string, unknown>,
  port: number,
): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), "bench-orchestrator-"));
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(config));
  return {
    PATH: process.env.PATH ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dir,
    ORCHESTRATION_CONFIG: configFile,
    OPENROUTER_API_KEY: "sk-or-bench",
    OPENROUTER_BASE_URL: `${upstreamUrl}/v1`,
    LOG_LEVEL: "INFO",
  };
}

// The Node.js options `npm start` runs the service with (those between "node" and the script).
export function startFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  return scripts.start.split(" ").filter((word) => word.startsWith("--"));
}

// The orchestrator exactly as `npm start` runs it, in its own process, with a config made for the run.
// `offline`: with no upstream key, as the offline mode runs (every answer from the simulated provider).
export async function startOrchestrator(
  upstreamUrl: string,
  config: Record<string, unknown>,
  options: { offline?: boolean } = {},
): Promise<Running> {
  const port = await freePort();
  const env = orchestratorEnv(upstreamUrl, config, port);
  if (options.offline) {
    delete env.OPENROUTER_API_KEY;
    delete env.OPENROUTER_BASE_URL;
  }
  buildService();
  const child = spawn(process.execPath, [...startFlags(), join(repoRoot, "dist/src/main.js")], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, child, "the orchestrator");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

// Portkey's open-source AI gateway, started from its npm package, headless.
export async function startPortkey(): Promise<Running> {
  const port = await freePort();
  const entry = join(repoRoot, "bench/node_modules/@portkey-ai/gateway/build/start-server.js");
  const child = spawn(process.execPath, [entry, `--port=${port}`, "--headless"], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child, "the Portkey gateway");
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

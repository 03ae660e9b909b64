import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { lastUserText, orchestrationResponder } from "../support/responders.ts";

const root = new URL("../../", import.meta.url).pathname;
const mainFile = join(root, "src/main.ts");

interface Started {
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal?: NodeJS.Signals) => void;
}

function startServer(
  env: Record<string, string>,
  args = ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", mainFile],
): Started {
  const child = spawn(process.execPath, args, {
    cwd: mkdtempSync(join(tmpdir(), "orchestrator-")),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { output: () => output, exited, kill: (signal) => child.kill(signal) };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("npm start (src/main.ts)", () => {
  it("starts with no key in offline mode, says so, serves /health and stops on SIGTERM", async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = startServer({
      PORT: port,
      HOST: "127.0.0.1",
      DATA_DIR: mkdtempSync(join(tmpdir(), "data-")),
    });
    try {
      await waitFor(() => server.output().includes("Server listening"), "the server to listen");
      assert.match(server.output(), /OFFLINE MODE/);
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { mode: string };
      assert.equal(health.mode, "offline");
      server.kill("SIGTERM");
      assert.equal(await server.exited, 0);
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("npm start's build: the compiled service serves the API and the chat box, and stops on SIGTERM", async () => {
    // What prestart runs (a no-op when dist/ is newer than the sources).
    const build = spawnSync(process.execPath, [join(root, "scripts/build-server.mjs")], { encoding: "utf8" });
    assert.equal(build.status, 0, build.stderr);
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = startServer(
      { PORT: port, HOST: "127.0.0.1", DATA_DIR: mkdtempSync(join(tmpdir(), "data-")) },
      [join(root, "dist/src/main.js")],
    );
    try {
      await waitFor(() => server.output().includes("Server listening"), "the compiled server to listen");
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version: string };
      assert.equal(health.version, "0.1.0");
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<!doctype html>/i);
      const chat = await fetch(`http://127.0.0.1:${port}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hello" }),
      });
      assert.equal(chat.status, 200);
      server.kill("SIGTERM");
      assert.equal(await server.exited, 0);
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("refuses a bad config file, naming the field, and exits non-zero", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-config-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ orchestration: { maxConcurrentWorkflows: "lots" } }));
    const server = startServer({ ORCHESTRATION_CONFIG: file });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /orchestration\.maxConcurrentWorkflows/);
  });

  it("never prints the API key it was given", async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const secret = "sk-or-v1-secret-key-that-must-not-leak";
    const configFile = join(mkdtempSync(join(tmpdir(), "config-")), "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({ errorHandling: { retry: { baseDelayMs: 1, maxDelayMs: 2 } } }),
    );
    const server = startServer({
      ORCHESTRATION_CONFIG: configFile,
      PORT: port,
      HOST: "127.0.0.1",
      OPENROUTER_API_KEY: secret,
      OPENROUTER_BASE_URL: "http://127.0.0.1:9/api/v1",
      LOG_LEVEL: "debug",
      DATA_DIR: mkdtempSync(join(tmpdir(), "data-")),
    });
    try {
      await waitFor(() => server.output().includes("Server listening"), "the server to listen");
      const chat = await fetch(`http://127.0.0.1:${port}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: JSON.stringify({ message: "hello" }),
      });
      const body = await chat.text();
      assert.equal(chat.status, 503, body);
      assert.ok(!body.includes(secret));
      server.kill("SIGTERM");
      await server.exited;
      assert.ok(!server.output().includes(secret), "the key is not in the log");
      assert.match(server.output(), /live mode/);
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("on SIGTERM finishes the background work in flight before exiting, and it is there after a restart", async () => {
    const fake = await startFakeOpenRouter();
    fake.respondWith(
      orchestrationResponder({
        override: (_request, kind) =>
          kind === "finish" ? { kind: "text", content: "the finished work", delayMs: 400 } : undefined,
      }),
    );
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const env = {
      PORT: port,
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      OPENROUTER_API_KEY: fake.apiKey,
      OPENROUTER_BASE_URL: fake.baseUrl,
    };
    const first = startServer(env);
    let second: Started | undefined;
    try {
      await waitFor(() => first.output().includes("Server listening"), "the server to listen");
      const chat = await fetch(`http://127.0.0.1:${port}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "Build a complete website with docs, tests and a launch plan" }),
      });
      const { workflow_id: workflowId } = (await chat.json()) as { workflow_id: string };
      first.kill("SIGTERM");
      assert.equal(await first.exited, 0);
      assert.match(first.output(), /shutting down/);

      second = startServer(env);
      const started = second;
      await waitFor(() => started.output().includes("Server listening"), "the restarted server to listen");
      const run = (await (await fetch(`http://127.0.0.1:${port}/workflow/${workflowId}`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(run.status, "completed");
      assert.equal(run.result, "the finished work");
    } finally {
      first.kill("SIGKILL");
      second?.kill("SIGKILL");
      await fake.close();
    }
  });

  it("on SIGTERM answers the requests in flight and writes every one of their ledger and request-log rows", async () => {
    const fake = await startFakeOpenRouter();
    fake.respondWith(() => ({ kind: "text", content: "answered", delayMs: 300 }));
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    // Batches wait up to a minute: only the stop itself can have written these rows.
    const configFile = join(dataDir, "config.json");
    writeFileSync(configFile, JSON.stringify({ monitoring: { writeBatchMs: 60_000 } }));
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = startServer({
      ORCHESTRATION_CONFIG: configFile,
      PORT: port,
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      OPENROUTER_API_KEY: fake.apiKey,
      OPENROUTER_BASE_URL: fake.baseUrl,
    });
    try {
      await waitFor(() => server.output().includes("Server listening"), "the server to listen");
      const count = 40;
      const answers = Array.from({ length: count }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "medium_ai",
            messages: [{ role: "user", content: `question ${i}` }],
          }),
        }).then((r) => r.status),
      );
      // Every request is accepted and waiting on the upstream when the stop comes.
      await waitFor(() => fake.requests.length === count, "every request to reach the upstream");
      server.kill("SIGTERM");
      assert.deepEqual(await Promise.all(answers), Array(count).fill(200));
      assert.equal(await server.exited, 0);
      const db = new DatabaseSync(join(dataDir, "orchestrator.sqlite"), { readOnly: true });
      try {
        const calls = db.prepare("select count(*) as n from upstream_calls where outcome = 'ok'").get();
        const requests = db
          .prepare("select count(*) as n from api_requests where endpoint = '/v1/chat/completions'")
          .get();
        assert.equal(calls?.n, count);
        assert.equal(requests?.n, count);
      } finally {
        db.close();
      }
    } finally {
      server.kill("SIGKILL");
      await fake.close();
    }
  });

  it("after a crash (kill -9) reports the cut-off workflow as interrupted and resumes it without redoing finished tasks", async () => {
    const fake = await startFakeOpenRouter();
    let hang = true;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      if (prompt.startsWith("second") && hang) return { kind: "hang" };
      return { kind: "text", content: `done: ${prompt}` };
    });
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const env = {
      PORT: port,
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      OPENROUTER_API_KEY: fake.apiKey,
      OPENROUTER_BASE_URL: fake.baseUrl,
    };
    const base = `http://127.0.0.1:${port}`;
    const first = startServer(env);
    let second: Started | undefined;
    try {
      await waitFor(() => first.output().includes("Server listening"), "the server to listen");
      const submitted = await fetch(`${base}/workflow`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          async: true,
          workflow: [
            {
              type: "linear",
              tasks: [
                { model: "medium_ai", prompt: "first A", output_variable: "a" },
                { model: "medium_ai", prompt: "first B", output_variable: "b" },
              ],
            },
            {
              type: "inline",
              tasks: [{ model: "medium_ai", prompt: "second from {a} and {b}", output_variable: "c" }],
            },
          ],
        }),
      });
      const { workflow_id: id } = (await submitted.json()) as { workflow_id: string };
      await waitFor(
        () => fake.requests.some((r) => lastUserText(r).startsWith("second")),
        "the second stage to start",
      );
      first.kill("SIGKILL");
      await first.exited;

      hang = false;
      second = startServer(env);
      const restarted = second;
      await waitFor(() => restarted.output().includes("Server listening"), "the restarted server to listen");
      const cutOff = (await (await fetch(`${base}/workflow/${id}`)).json()) as { status: string };
      assert.equal(cutOff.status, "interrupted");
      const resumed = await fetch(`${base}/workflow/${id}/resume`, { method: "POST" });
      assert.equal(resumed.status, 202);
      let record: { status: string; outputs: Record<string, string> } = { status: "running", outputs: {} };
      const poll = async () => {
        while (record.status === "running") {
          record = (await (await fetch(`${base}/workflow/${id}`)).json()) as typeof record;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await poll();
      assert.equal(record.status, "completed");
      assert.equal(record.outputs.c, "done: second from done: first A and done: first B");
      const prompts = fake.requests.map((r) => lastUserText(r));
      assert.equal(prompts.filter((p) => p === "first A").length, 1, "finished tasks are not run again");
      assert.equal(prompts.filter((p) => p === "first B").length, 1);
      assert.equal(prompts.filter((p) => p.startsWith("second")).length, 2, "the cut-off task runs again");
    } finally {
      first.kill("SIGKILL");
      second?.kill("SIGKILL");
      await fake.close();
    }
  });
});

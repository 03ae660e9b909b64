import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { lastUserText, orchestrationResponder } from "../support/responders.ts";
import { freePort, root, type ServerProcess, startProcess } from "../support/server-process.ts";

describe("npm start (src/main.ts)", () => {
  it("starts with no key in offline mode, says so, serves /health and stops on SIGTERM", async () => {
    const port = await freePort();
    const server = startProcess({
      PORT: port,
      HOST: "127.0.0.1",
      DATA_DIR: mkdtempSync(join(tmpdir(), "data-")),
    });
    try {
      await eventually("the server to listen", () => server.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: server.output,
      });
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
    const port = await freePort();
    const server = startProcess(
      { PORT: port, HOST: "127.0.0.1", DATA_DIR: mkdtempSync(join(tmpdir(), "data-")) },
      [join(root, "dist/src/main.js")],
    );
    try {
      await eventually("the compiled server to listen", () => server.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: server.output,
      });
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
    const server = startProcess({ ORCHESTRATION_CONFIG: file });
    assert.equal(await server.exited, 1);
    assert.match(server.output(), /orchestration\.maxConcurrentWorkflows/);
  });

  it("never prints the API key it was given", async () => {
    const port = await freePort();
    const secret = "sk-or-v1-secret-key-that-must-not-leak";
    const configFile = join(mkdtempSync(join(tmpdir(), "config-")), "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({ errorHandling: { retry: { baseDelayMs: 1, maxDelayMs: 2 } } }),
    );
    const server = startProcess({
      ORCHESTRATION_CONFIG: configFile,
      PORT: port,
      HOST: "127.0.0.1",
      OPENROUTER_API_KEY: secret,
      OPENROUTER_BASE_URL: "http://127.0.0.1:9/api/v1",
      LOG_LEVEL: "debug",
      DATA_DIR: mkdtempSync(join(tmpdir(), "data-")),
    });
    try {
      await eventually("the server to listen", () => server.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: server.output,
      });
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
    const port = await freePort();
    const env = serverEnv(fake, dataDir, port);
    const first = startProcess(env);
    let second: ServerProcess | undefined;
    try {
      await eventually("the server to listen", () => first.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: first.output,
      });
      const chat = await fetch(`http://127.0.0.1:${port}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "Build a complete website with docs, tests and a launch plan" }),
      });
      const { workflow_id: workflowId } = (await chat.json()) as { workflow_id: string };
      first.kill("SIGTERM");
      assert.equal(await first.exited, 0);
      assert.match(first.output(), /shutting down/);

      second = startProcess(env);
      const started = second;
      await eventually(
        "the restarted server to listen",
        () => started.output().includes("Server listening"),
        { timeoutMs: 60_000, output: started.output },
      );
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
    const port = await freePort();
    const server = startProcess(serverEnv(fake, dataDir, port, configFile));
    try {
      await eventually("the server to listen", () => server.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: server.output,
      });
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
      await eventually("every request to reach the upstream", () => fake.requests.length === count);
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

  it("after a crash (kill -9) the restarted server resumes the cut-off workflow by itself, without redoing finished tasks", async () => {
    const fake = await startFakeOpenRouter();
    let hang = true;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      if (prompt.startsWith("second") && hang) return { kind: "hang" };
      return { kind: "text", content: `done: ${prompt}` };
    });
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    const port = await freePort();
    // A short lease, so the restarted server does not wait long for the dead one's to expire.
    const configFile = join(dataDir, "config.json");
    writeFileSync(configFile, JSON.stringify({ orchestration: { runLeaseMs: 1000 } }));
    const env = serverEnv(fake, dataDir, port, configFile);
    const base = `http://127.0.0.1:${port}`;
    const first = startProcess(env);
    let second: ServerProcess | undefined;
    try {
      await eventually("the server to listen", () => first.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: first.output,
      });
      const id = await submitAsync(base, [
        {
          type: "linear",
          tasks: [
            { model: "medium_ai", prompt: "first A", output_variable: "a" },
            { model: "medium_ai", prompt: "first B", output_variable: "b" },
          ],
        },
        {
          type: "inline",
          tasks: [
            { model: "medium_ai", prompt: "second from {a} and {b}", output_variable: "c" },
            { model: "medium_ai", prompt: "third from {c}", output_variable: "d" },
          ],
        },
      ]);
      await eventually("the second stage to start", () =>
        fake.requests.some((r) => lastUserText(r).startsWith("second")),
      );
      first.kill("SIGKILL");
      await first.exited;

      hang = false;
      second = startProcess(env);
      const restarted = second;
      await eventually(
        "the restarted server to listen",
        () => restarted.output().includes("Server listening"),
        { timeoutMs: 60_000, output: restarted.output },
      );
      // No resume call: the server takes the run over once the dead process's lease has expired.
      type Run = { status: string; outputs: Record<string, string>; tasks: { status: string }[] };
      const record = await runWhen<Run>(
        base,
        id,
        "the run to be taken over and end",
        (run) => run.status !== "running",
      );
      assert.equal(record.status, "completed");
      assert.equal(record.outputs.d, "done: third from done: second from done: first A and done: first B");
      assert.deepEqual(
        record.tasks.map((t) => t.status),
        ["completed", "completed", "completed", "completed"],
      );
      const prompts = fake.requests.map((r) => lastUserText(r));
      assert.equal(prompts.filter((p) => p === "first A").length, 1, "finished tasks are not run again");
      assert.equal(prompts.filter((p) => p === "first B").length, 1);
      assert.equal(
        prompts.filter((p) => p.startsWith("second")).length,
        2,
        "the cut-off task runs once more",
      );
      assert.equal(prompts.filter((p) => p.startsWith("third")).length, 1);
      assert.match(restarted.output(), /workflow recovered/);
      // The ledger counts every call that was answered, once: the dead process's answered calls (first A,
      // first B) and the restarted one's (second, third); the call cut off by the crash was never answered.
      const stats = (await (await fetch(`${base}/stats`)).json()) as { models: { ok: number }[] };
      assert.equal(
        stats.models.reduce((sum, m) => sum + m.ok, 0),
        4,
      );
    } finally {
      first.kill("SIGKILL");
      second?.kill("SIGKILL");
      await fake.close();
    }
  });

  it("on SIGTERM past the grace period, gives the run's lease up: the next process resumes it at once", async () => {
    const fake = await startFakeOpenRouter();
    let hang = true;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      if (prompt.startsWith("long") && hang) return { kind: "hang" };
      return { kind: "text", content: `done: ${prompt}` };
    });
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    const port = await freePort();
    // A lease far longer than the test: only a lease given up lets the next process take the run now.
    const configFile = join(dataDir, "config.json");
    writeFileSync(
      configFile,
      JSON.stringify({ orchestration: { runLeaseMs: 600_000, shutdownGraceSeconds: 0.2 } }),
    );
    const env = serverEnv(fake, dataDir, port, configFile);
    const base = `http://127.0.0.1:${port}`;
    const first = startProcess(env);
    let second: ServerProcess | undefined;
    try {
      await eventually("the server to listen", () => first.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: first.output,
      });
      const id = await submitAsync(base, [
        { type: "inline", tasks: [{ model: "medium_ai", prompt: "long one", output_variable: "a" }] },
      ]);
      await eventually("the task to start", () => fake.requests.length > 0);
      first.kill("SIGTERM");
      assert.equal(await first.exited, 0);
      hang = false;
      second = startProcess(env);
      const restarted = second;
      await eventually(
        "the restarted server to listen",
        () => restarted.output().includes("Server listening"),
        { timeoutMs: 60_000, output: restarted.output },
      );
      type Run = { status: string; outputs: Record<string, string> };
      const record = await runWhen<Run>(
        base,
        id,
        "the run to be resumed and end",
        (run) => run.status !== "running",
      );
      assert.equal(record.status, "completed");
      assert.equal(record.outputs.a, "done: long one");
    } finally {
      first.kill("SIGKILL");
      second?.kill("SIGKILL");
      await fake.close();
    }
  });

  it("with orchestration.resumeOnStart off, marks the cut-off workflow interrupted, with no task left running, and resumes it on request", async () => {
    const fake = await startFakeOpenRouter();
    let hang = true;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      if (prompt.startsWith("slow") && hang) return { kind: "hang" };
      return { kind: "text", content: `done: ${prompt}` };
    });
    const dataDir = mkdtempSync(join(tmpdir(), "data-"));
    const port = await freePort();
    const configFile = join(dataDir, "config.json");
    writeFileSync(configFile, JSON.stringify({ orchestration: { runLeaseMs: 500, resumeOnStart: false } }));
    const env = serverEnv(fake, dataDir, port, configFile);
    const base = `http://127.0.0.1:${port}`;
    const first = startProcess(env);
    let second: ServerProcess | undefined;
    try {
      await eventually("the server to listen", () => first.output().includes("Server listening"), {
        timeoutMs: 60_000,
        output: first.output,
      });
      const id = await submitAsync(base, [
        { type: "inline", tasks: [{ model: "medium_ai", prompt: "slow one", output_variable: "a" }] },
      ]);
      await eventually("the task to start", () => fake.requests.length > 0);
      first.kill("SIGKILL");
      await first.exited;
      hang = false;
      second = startProcess(env);
      const restarted = second;
      await eventually(
        "the restarted server to listen",
        () => restarted.output().includes("Server listening"),
        { timeoutMs: 60_000, output: restarted.output },
      );
      type Run = { status: string; tasks: { status: string; error: { code: string } | null }[] };
      let record = await runWhen<Run>(base, id, "the run to be marked", (run) => run.status !== "running");
      assert.equal(record.status, "interrupted");
      assert.equal(record.tasks[0]?.status, "failed", "not left running");
      assert.equal(record.tasks[0]?.error?.code, "run_ended");
      assert.equal((await fetch(`${base}/workflow/${id}/resume`, { method: "POST" })).status, 202);
      record = await runWhen<Run>(
        base,
        id,
        "the resumed run to complete",
        (run) => run.status === "completed",
      );
      assert.equal(record.status, "completed");
    } finally {
      first.kill("SIGKILL");
      second?.kill("SIGKILL");
      await fake.close();
    }
  });
});

// A server process's environment: its port and data folder, answered by the fake upstream.
function serverEnv(
  fake: FakeOpenRouter,
  dataDir: string,
  port: string,
  configFile?: string,
): Record<string, string> {
  return {
    PORT: port,
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    ...(configFile ? { ORCHESTRATION_CONFIG: configFile } : {}),
    OPENROUTER_API_KEY: fake.apiKey,
    OPENROUTER_BASE_URL: fake.baseUrl,
  };
}

// Submits a workflow to run in the background and returns its id.
async function submitAsync(base: string, workflow: unknown): Promise<string> {
  const submitted = await fetch(`${base}/workflow`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ async: true, workflow }),
  });
  const { workflow_id: id } = (await submitted.json()) as { workflow_id: string };
  return id;
}

// The run once `done` holds of it, read from the server at `base`.
function runWhen<T extends { status: string }>(
  base: string,
  id: string,
  what: string,
  done: (run: T) => boolean,
): Promise<T> {
  return eventually(
    what,
    async () => {
      const run = (await (await fetch(`${base}/workflow/${id}`)).json()) as T;
      return done(run) ? run : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

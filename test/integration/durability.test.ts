import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { lastUserText } from "../support/responders.ts";
import { freePort, type ServerProcess, startProcess } from "../support/server-process.ts";
import { freshPostgresSchema, postgresSkipReason, postgresUrl } from "../support/services.ts";

type Run = {
  status: string;
  outputs: Record<string, string>;
  tasks: { status: string; worker: string | null }[];
};

// Server processes (as `npm start` runs them) sharing one PostgreSQL database and running workflows in
// process: the leases and fencing tokens in the store decide who drives a run.
describe("durable runs on one PostgreSQL database", {
  skip: postgresUrl ? false : postgresSkipReason,
}, () => {
  let fake: FakeOpenRouter;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let configFile: string;
  const processes: ServerProcess[] = [];

  const start = async () => {
    const port = await freePort();
    const server = startProcess({
      PORT: port,
      HOST: "127.0.0.1",
      DATABASE_URL: schema.url,
      ORCHESTRATION_CONFIG: configFile,
      OPENROUTER_API_KEY: fake.apiKey,
      OPENROUTER_BASE_URL: fake.baseUrl,
    });
    processes.push(server);
    return { server, base: `http://127.0.0.1:${port}` };
  };
  const listening = (server: ServerProcess) =>
    eventually("the server to listen", () => server.output().includes("Server listening"), {
      timeoutMs: 60_000,
      output: server.output,
    });
  const submit = async (base: string, workflow: unknown) => {
    const response = await fetch(`${base}/workflow`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ async: true, workflow }),
    });
    return ((await response.json()) as { workflow_id: string }).workflow_id;
  };
  const read = async (base: string, id: string) =>
    (await (await fetch(`${base}/workflow/${id}`)).json()) as Run;
  const finished = (base: string, id: string) =>
    eventually(
      `run ${id} to finish`,
      async () => {
        const run = await read(base, id);
        return run.status === "running" ? undefined : run;
      },
      { timeoutMs: 60_000 },
    );
  // Runs this process is driving now.
  const runningHere = async (base: string) => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    return Number(/^orchestrator_workflows_running (\S+)$/m.exec(metrics)?.[1]);
  };
  // Answered upstream calls in the shared cost ledger.
  const okCalls = async (base: string) => {
    const stats = (await (await fetch(`${base}/stats`)).json()) as { models: { ok: number }[] };
    return stats.models.reduce((sum, m) => sum + m.ok, 0);
  };
  const count = (start: string) => fake.requests.filter((r) => lastUserText(r).startsWith(start)).length;

  before(async () => {
    fake = await startFakeOpenRouter();
    schema = await freshPostgresSchema();
    configFile = join(mkdtempSync(join(tmpdir(), "durability-")), "config.json");
    // Short, so a dead process's run is taken over in seconds; not so short that a live process slowed by a
    // busy machine misses a renewal and loses its run to the other one (which would then run it twice).
    writeFileSync(configFile, JSON.stringify({ orchestration: { runLeaseMs: 4000 } }));
  });
  after(async () => {
    for (const server of processes) server.kill("SIGKILL");
    await Promise.all(processes.map((server) => server.exited));
    await fake?.close();
    await schema?.drop();
  });

  it("after a crash, two processes starting together: exactly one resumes the run", async () => {
    let hang = true;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      if (prompt.startsWith("cut off") && hang) return { kind: "hang" };
      return { kind: "text", content: `done: ${prompt}` };
    });
    const crashed = await start();
    await listening(crashed.server);
    const id = await submit(crashed.base, [
      { type: "linear", tasks: [{ model: "medium_ai", prompt: "before", output_variable: "a" }] },
      { type: "inline", tasks: [{ model: "medium_ai", prompt: "cut off after {a}", output_variable: "b" }] },
    ]);
    await eventually("the second task's call", () => count("cut off") === 1);
    crashed.server.kill("SIGKILL");
    await crashed.server.exited;

    hang = false;
    const one = await start();
    const two = await start();
    try {
      await Promise.all([listening(one.server), listening(two.server)]);
      const run = await finished(one.base, id);
      assert.equal(run.status, "completed");
      assert.equal(run.outputs.b, "done: cut off after done: before");
      assert.equal(count("before"), 1, "the finished task is not run again");
      assert.equal(count("cut off"), 2, "the cut-off task runs once more, by one process");
      const resumers = [one, two].filter((p) => p.server.output().includes("workflow recovered"));
      assert.equal(resumers.length, 1, "exactly one process resumed the run");
    } finally {
      for (const p of [one, two]) p.server.kill("SIGKILL");
    }
  });

  it("a process that stalls past its lease cannot write over the attempt that took its run over", async () => {
    fake.clear();
    let calls = 0;
    fake.respondWith((request) => {
      const prompt = lastUserText(request);
      calls += 1;
      // The stalled process's call is answered late, while it is stopped; the new attempt's at once.
      return calls === 1
        ? { kind: "text", content: `stale: ${prompt}`, delayMs: 2500 }
        : { kind: "text", content: `fresh: ${prompt}` };
    });
    const stalled = await start();
    const other = await start();
    await Promise.all([listening(stalled.server), listening(other.server)]);
    const okBefore = await okCalls(other.base);
    const id = await submit(stalled.base, [
      { type: "inline", tasks: [{ model: "medium_ai", prompt: "contested", output_variable: "x" }] },
    ]);
    await eventually("the task's call", () => fake.requests.length === 1);
    stalled.server.kill("SIGSTOP");
    try {
      const run = await finished(other.base, id);
      assert.equal(run.status, "completed");
      assert.equal(run.outputs.x, "fresh: contested");
    } finally {
      stalled.server.kill("SIGCONT");
    }
    // The stalled process wakes up, receives its late answer and tries to store it: refused. Its call
    // was real, so the shared ledger counts it; the run keeps the new attempt's result.
    const ok = await eventually(
      "both calls in the ledger",
      async () => {
        const ok = await okCalls(other.base);
        return ok >= okBefore + 2 ? ok : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(ok - okBefore, 2, "both real calls are in the ledger, once each");
    // Once the stalled process drives no run, its late answer has been through its write (refused or not)
    // and it has stopped: nothing it does later can touch the run, so what the store holds now is final.
    await eventually(
      "the stalled process to let the run go",
      async () => (await runningHere(stalled.base)) === 0,
      {
        timeoutMs: 60_000,
      },
    );
    const run = await read(other.base, id);
    assert.equal(run.status, "completed");
    assert.equal(run.outputs.x, "fresh: contested");
    assert.equal(run.tasks[0]?.status, "completed");
    assert.notEqual(
      run.tasks[0]?.worker,
      `${hostname()}:${stalled.server.pid}`,
      "another process finished it",
    );
  });
});

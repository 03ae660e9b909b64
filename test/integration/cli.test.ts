import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { orchestrationResponder, routingResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const bin = new URL("../../bin/orchestrator.js", import.meta.url).pathname;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// Runs the installed command as a user would: a separate process talking HTTP to the server.
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("command-line client", () => {
  let t: TestApp;
  let dir: string;
  const url = () => ["--url", t.url];

  before(async () => {
    t = await startTestApp();
    dir = mkdtempSync(join(tmpdir(), "cli-"));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it("chat streams the answer to stdout and category, model and cost to stderr", async () => {
    t.fake?.respondWith(routingResponder("M"));
    const run = await cli(["chat", "What is a heat pump?", ...url()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /answer from meta-llama\/llama-3\.3-70b-instruct to: What is a heat pump\?/);
    assert.match(
      run.stderr,
      /\[M · meta-llama\/llama-3\.3-70b-instruct · \$0\.000201 · session [0-9a-f-]{36}\]/,
    );
  });

  it("chat --json prints the /chat response, and an H request waits for its workflow", async () => {
    t.fake?.respondWith(orchestrationResponder({ finalAnswer: "THE CAMPAIGN" }));
    const run = await cli(["chat", "Plan a whole campaign", "--json", ...url()]);
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout);
    assert.equal(body.category, "H");
    assert.equal(body.workflow.status, "completed");
    assert.equal(body.workflow.result, "THE CAMPAIGN");

    const human = await cli(["chat", "Plan another campaign", ...url()]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /On it\.\n\nTHE CAMPAIGN\n/);
    assert.match(human.stderr, /stage 1, task 1: thinking_ai \(moonshotai\/kimi-k2\.6\) running/);
    assert.match(human.stderr, /\[workflow [0-9a-f-]{36} · completed · \$/);
  });

  it("run shows each task's progress and prints the outputs; --var fills variables", async () => {
    t.fake?.respondWith(routingResponder("M"));
    const file = join(dir, "workflow.json");
    writeFileSync(
      file,
      JSON.stringify({
        workflow: [
          {
            type: "linear",
            tasks: [{ model: "medium_ai", prompt: "Facts on {topic}", output_variable: "facts" }],
          },
        ],
      }),
    );
    const run = await cli(["run", file, "--var", "topic=tides", ...url()]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^## facts\n\nanswer from meta-llama\/llama-3\.3-70b-instruct to: Facts on tides/,
    );
    assert.match(run.stderr, /stage 1, task 1: medium_ai \(meta-llama\/llama-3\.3-70b-instruct\) running/);
    assert.match(run.stderr, /stage 1, task 1: facts done in [\d.]+ s, \$/);
    assert.match(run.stderr, /workflow [0-9a-f-]{36}: completed/);
  });

  it("template runs a template, and a missing variable fails with the server's message and exit code 1", async () => {
    t.fake?.respondWith(routingResponder("M"));
    const ok = await cli([
      "template",
      "code_project",
      "--var",
      "project=a URL shortener",
      "--json",
      ...url(),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(Object.keys(JSON.parse(ok.stdout).outputs).sort(), [
      "architecture",
      "code_review",
      "documentation",
      "implementation",
      "tests",
    ]);
    const missing = await cli(["template", "code_project", ...url()]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /error: the orchestrator answered 400 \(invalid_request\): project: is required/,
    );
  });

  it("lists models, addons and stats, as tables or JSON", async () => {
    const models = await cli(["models", ...url()]);
    assert.equal(models.code, 0);
    assert.match(models.stdout, /^role\s+kind\s+model\s+price\n/);
    assert.match(
      models.stdout,
      /thinking_ai\s+chat\s+moonshotai\/kimi-k2\.6\s+\$0\.684 \/ \$3\.42 per M tokens/,
    );
    const addons = await cli(["addons", "--json", ...url()]);
    assert.equal(JSON.parse(addons.stdout).count, 50);
    const stats = await cli(["stats", "--since", "1h", ...url()]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /requests .*cache hits\ncost \$/);
  });

  it("exits 2 on wrong usage and 3 when the server cannot be reached", async () => {
    const unknown = await cli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = await cli(["chat"]);
    assert.equal(missing.code, 2);
    const badVar = await cli(["template", "x", "--var", "novalue"]);
    assert.equal(badVar.code, 2);
    assert.match(badVar.stderr, /--var novalue: write it as name=value/);
    const nowhere = await cli(["models", "--url", "http://127.0.0.1:9"]);
    assert.equal(nowhere.code, 3);
    assert.match(nowhere.stderr, /cannot reach the orchestrator at http:\/\/127\.0\.0\.1:9/);
  });
});

describe("command-line client against a server with API keys", () => {
  it("sends --key (or ORCHESTRATOR_API_KEY) as a bearer token", async () => {
    const key = "cli-test-key-0123456789";
    const t = await startTestApp({ config: { api_keys: { clients: [key] } } });
    try {
      const refused = await cli(["models", "--url", t.url]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /401 \(invalid_api_key\)/);
      const withFlag = await cli(["models", "--url", t.url, "--key", key]);
      assert.equal(withFlag.code, 0, withFlag.stderr);
      const fromEnv = await cli(["models"], { ORCHESTRATOR_URL: t.url, ORCHESTRATOR_API_KEY: key });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
    } finally {
      await t.close();
    }
  });
});

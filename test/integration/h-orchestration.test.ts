import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";
import { callKind, lastUserText, orchestrationResponder, twoStagePlan } from "../support/responders.ts";
import { finishedRun } from "../support/test-app.ts";

describe("H orchestration: plan, run, answer", () => {
  const app = useFakeOpenRouterApp({
    config: { errorHandling: { circuitBreaker: { failureThreshold: 1000 } } },
    clearEachTest: true,
  });

  it("reads a plan wrapped in prose and code fences", async () => {
    app.fake.respondWith(
      orchestrationResponder({
        override: (_r, kind) =>
          kind === "plan"
            ? {
                kind: "text",
                content: `Here is the plan:\n\`\`\`json\n${JSON.stringify(twoStagePlan)}\n\`\`\`\nGood luck!`,
              }
            : undefined,
      }),
    );
    const res = await app.t.post("/chat", {
      message: "Build a complete product launch with a website, emails and ads",
    });
    const run = await finishedRun(app.t, res.body.workflow_id);
    assert.equal(run.status, "completed");
    assert.equal(app.fake.requests.filter((r) => callKind(r) === "plan").length, 1);
  });

  it("sends an invalid plan back once with its problems, and runs the corrected one", async () => {
    let plans = 0;
    const broken = {
      workflow: [{ type: "linear", tasks: [{ model: "wizard_ai", prompt: "x", output_variable: "x" }] }],
    };
    app.fake.respondWith(
      orchestrationResponder({
        override: (_r, kind) =>
          kind === "plan"
            ? { kind: "text", content: JSON.stringify(plans++ === 0 ? broken : twoStagePlan) }
            : undefined,
      }),
    );
    const res = await app.t.post("/chat", {
      message: "Plan and write a full marketing strategy with ads, posts and emails",
    });
    const run = await finishedRun(app.t, res.body.workflow_id);
    assert.equal(run.status, "completed");
    const planCalls = app.fake.requests.filter((r) => callKind(r) === "plan");
    assert.equal(planCalls.length, 2);
    assert.match(
      lastUserText(planCalls[1] as (typeof planCalls)[number]),
      /unknown model role 'wizard_ai'.*corrected JSON/s,
    );
  });

  it("when the workers fail, the failure is explained to the user in the session", async () => {
    app.fake.respondWith(
      orchestrationResponder({
        override: (request, kind) =>
          kind === "task" && lastUserText(request).startsWith("Outline")
            ? { kind: "error", status: 400, message: "content policy violation" }
            : undefined,
      }),
    );
    const res = await app.t.post("/chat", {
      message: "Create a full campaign with images, videos and emails",
    });
    const run = await finishedRun(app.t, res.body.workflow_id);
    assert.equal(run.status, "failed");
    assert.match(run.error.message, /content policy violation/);
    assert.equal(run.result, "Sorry: the work failed. Please try again later.");
    const explain = app.fake.requests.find((r) => callKind(r) === "explain");
    assert.match(lastUserText(explain as NonNullable<typeof explain>), /content policy violation/);
    assert.match(lastUserText(explain as NonNullable<typeof explain>), /Completed steps: research/);
    const history = (await app.t.get(`/sessions/${res.body.session_id}`)).body.messages;
    assert.equal(history.at(-1).content, "Sorry: the work failed. Please try again later.");
    assert.equal(app.fake.requests.filter((r) => callKind(r) === "finish").length, 0);
  });

  it("streams the H run's events: plan ready, tasks, finished", async () => {
    app.fake.respondWith(
      orchestrationResponder({
        override: (_r, kind) =>
          kind === "plan" ? { kind: "text", content: JSON.stringify(twoStagePlan), delayMs: 100 } : undefined,
      }),
    );
    const res = await app.t.post("/chat", {
      message: "Create a complete report with research, charts and a summary",
    });
    const text = await (await fetch(`${app.t.url}/workflow/${res.body.workflow_id}/events`)).text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(names[0], "plan_ready");
    assert.equal(names.filter((n) => n === "task_completed").length, 3);
    assert.equal(names.at(-1), "workflow_finished");
    assert.match(text, /"status":"completed"/);
  });

  it("replays the plan and every task event once to a client that connects after the run", async () => {
    app.fake.respondWith(orchestrationResponder());
    const res = await app.t.post("/chat", {
      message: "Create a complete report with research and a summary",
    });
    await finishedRun(app.t, res.body.workflow_id);
    const text = await (await fetch(`${app.t.url}/workflow/${res.body.workflow_id}/events`)).text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names, [
      "plan_ready",
      ...Array(3).fill(["task_started", "task_completed"]).flat(),
      "workflow_finished",
    ]);
    assert.match(text, /"stages":2/);
  });
});

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeGoogleAi, fakeMp4, fakePng, startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { type FakeOpenRouter, type RecordedRequest, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { lastUserText, systemText, workerResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// Workers answer "<output_variable-ish tag> done"; a prompt may ask for a delay with "[wait N]" or a hang with "[hang]".
const task = (model: string, prompt: string, output: string, config?: Record<string, unknown>) => ({
  model,
  prompt,
  output_variable: output,
  ...(config ? { config } : {}),
});

describe("workflows", () => {
  let fake: FakeOpenRouter;
  let google: FakeGoogleAi;
  let t: TestApp;

  before(async () => {
    fake = await startFakeOpenRouter();
    google = await startFakeGoogleAi();
    t = await startTestApp({
      fake,
      google,
      config: { errorHandling: { circuitBreaker: { failureThreshold: 1000 } } },
    });
  });
  after(async () => {
    await t.close();
    await fake.close();
    await google.close();
  });
  beforeEach(() => {
    fake.clear();
    fake.respondWith(workerResponder);
  });

  it("runs linear tasks at the same time and inline tasks one after another, passing variables", async () => {
    const res = await t.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: [
            task("research_ai", "A about {topic} [wait 1000]", "a"),
            task("medium_ai", "B about {topic} [wait 1000]", "b"),
            task("thinking_ai", "C about {topic} [wait 1000]", "c"),
          ],
        },
        {
          type: "inline",
          tasks: [
            task("medium_ai", "D from {a} [wait 100]", "d"),
            task("medium_ai", "E from {d} and {b}", "e"),
          ],
        },
      ],
      variables: { topic: "solar" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, "completed");
    assert.deepEqual(Object.keys(res.body.outputs).sort(), ["a", "b", "c", "d", "e"]);
    assert.equal(res.body.outputs.a, "done: A about solar [wait 1000]");
    assert.equal(
      res.body.outputs.e,
      "done: E from done: D from done: A about solar [wait 1000] [wait 100] and done: B about solar [wait 1000]",
    );

    const at = (prefix: string) =>
      fake.requests.find((r) => lastUserText(r).startsWith(prefix))?.receivedAt ?? Number.NaN;
    const parallelStarts = [at("A"), at("B"), at("C")];
    // Each linear task's answer takes 1 s: all three were sent before the first one was answered, so they
    // ran at the same time (a bound this wide holds on a busy machine too).
    assert.ok(
      Math.max(...parallelStarts) - Math.min(...parallelStarts) < 1000,
      `linear tasks overlap: ${parallelStarts}`,
    );
    assert.ok(at("D") - Math.max(...parallelStarts) >= 990, "the next stage waits for the linear stage");
    assert.ok(at("E") - at("D") >= 95, "inline tasks run one after another");

    assert.equal(res.body.tasks.length, 5);
    for (const view of res.body.tasks) {
      assert.equal(view.status, "completed");
      assert.ok(view.started_at && view.finished_at && view.usage.cost_usd === 0.001);
    }
    assert.deepEqual(res.body.usage, {
      prompt_tokens: res.body.usage.prompt_tokens,
      completion_tokens: res.body.usage.completion_tokens,
      cost_usd: 0.005,
    });
  });

  it("adds the addons' prompts to the task's system prompt and passes config on", async () => {
    await t.post("/workflow", {
      workflow: [
        {
          type: "inline",
          tasks: [
            task("product_ai", 'Write about {{braces}} and {"json": 1}', "copy", {
              addons: ["instagram", "ad_copy"],
              temperature: 0.9,
              max_tokens: 300,
            }),
          ],
        },
      ],
    });
    const request = fake.requests[0];
    assert.equal(request?.body.model, "meta-llama/llama-3.3-70b-instruct");
    assert.match(systemText(request as RecordedRequest), /specialist worker/);
    assert.match(systemText(request as RecordedRequest), /first line works as a hook/, "the instagram addon");
    assert.match(systemText(request as RecordedRequest), /platform's limits/, "the ad_copy addon");
    assert.equal(lastUserText(request as RecordedRequest), 'Write about {braces} and {"json": 1}');
    assert.equal(request?.body.temperature, 0.9);
    assert.equal(request?.body.max_tokens, 300);
  });

  const invalid: ReadonlyArray<[string, unknown, RegExp]> = [
    [
      "an unknown stage type",
      [{ type: "parallel", tasks: [task("medium_ai", "x", "x")] }],
      /workflow\[0\]\.type: must be "linear" \(parallel\) or "inline"/,
    ],
    [
      "an unknown model role",
      [{ type: "inline", tasks: [task("wizard_ai", "x", "x")] }],
      /workflow\[0\]\.tasks\[0\]\.model: unknown model role 'wizard_ai'/,
    ],
    [
      "a variable nobody sets",
      [{ type: "inline", tasks: [task("medium_ai", "use {missing}", "x")] }],
      /workflow\[0\]\.tasks\[0\]\.prompt: uses \{missing\}, which has no value yet/,
    ],
    [
      "a sibling's output in a linear stage",
      [
        {
          type: "linear",
          tasks: [task("medium_ai", "x", "first"), task("medium_ai", "use {first}", "second")],
        },
      ],
      /workflow\[0\]\.tasks\[1\]\.prompt: uses \{first\}.*same linear stage/,
    ],
    [
      "a duplicate output variable",
      [
        { type: "inline", tasks: [task("medium_ai", "x", "same")] },
        { type: "inline", tasks: [task("medium_ai", "y", "same")] },
      ],
      /workflow\[1\]\.tasks\[0\]\.output_variable: 'same' is already produced by workflow\[0\]\.tasks\[0\]/,
    ],
    [
      "an unknown addon",
      [{ type: "inline", tasks: [task("medium_ai", "x", "x", { addons: ["telepathy"] })] }],
      /workflow\[0\]\.tasks\[0\]\.config\.addons: unknown addon 'telepathy'/,
    ],
    ["an empty stage", [{ type: "linear", tasks: [] }], /workflow\[0\]\.tasks: must hold at least one task/],
    [
      "a misspelt task setting",
      [{ type: "inline", tasks: [task("medium_ai", "x", "x", { max_token: 10 })] }],
      /workflow\[0\]\.tasks\[0\]\.config\.max_token: is not a known field/,
    ],
    ["no stages", [], /workflow: must hold at least one stage/],
    [
      "an absurd number of stages",
      Array.from({ length: 51 }, (_, i) => ({ type: "inline", tasks: [task("medium_ai", "x", `v${i}`)] })),
      /at most 50 stages/,
    ],
    [
      "a bad output name",
      [{ type: "inline", tasks: [task("medium_ai", "x", "1abc")] }],
      /output_variable: must be a name/,
    ],
  ];
  for (const [what, workflow, message] of invalid) {
    it(`refuses ${what} with 400 before anything runs`, async () => {
      const res = await t.post("/workflow", { workflow });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.type, "logical");
      assert.match(res.body.error.message, message);
      assert.equal(fake.requests.length, 0);
    });
  }

  it("runs asynchronously with 202, and streams task events as they happen", async () => {
    const res = await t.post("/workflow", {
      async: true,
      workflow: [
        {
          type: "inline",
          tasks: [task("medium_ai", "one [wait 50]", "one"), task("medium_ai", "two from {one}", "two")],
        },
      ],
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, "running");
    const events = await fetch(`${t.url}/workflow/${res.body.workflow_id}/events`);
    assert.equal(events.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const names = [...(await events.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names, [
      "task_started",
      "task_completed",
      "task_started",
      "task_completed",
      "workflow_finished",
    ]);
    const record = await t.get(`/workflow/${res.body.workflow_id}`);
    assert.equal(record.body.status, "completed");
    assert.equal(record.body.outputs.two, "done: two from done: one [wait 50]");
  });

  it("cancels a running workflow: the running call is aborted and nothing after it starts", async () => {
    const res = await t.post("/workflow", {
      async: true,
      workflow: [
        { type: "inline", tasks: [task("medium_ai", "stuck [hang]", "stuck")] },
        { type: "inline", tasks: [task("medium_ai", "never {stuck}", "never")] },
      ],
    });
    await eventually("the first task's call", async () => (fake.requests.length > 0 ? true : undefined));
    const cancelled = await t.delete(`/workflow/${res.body.workflow_id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, "cancelled");
    assert.deepEqual(
      cancelled.body.tasks.map((v: { status: string }) => v.status),
      ["cancelled", "waiting"],
    );
    assert.equal(fake.requests.length, 1);
    assert.equal((await t.delete(`/workflow/${res.body.workflow_id}`)).status, 409, "not running any more");
  });

  it("fails a workflow that passes its timeout", async () => {
    const res = await t.post("/workflow", {
      timeout_seconds: 0.3,
      workflow: [{ type: "inline", tasks: [task("medium_ai", "slow [hang]", "slow")] }],
    });
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.error.code, "workflow_timeout");
  });

  it("keeps what finished when a task fails, and reports the failure", async () => {
    const res = await t.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: [task("medium_ai", "fine", "fine"), task("medium_ai", "broken [fail]", "broken")],
        },
      ],
    });
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.outputs.fine, "done: fine");
    const broken = res.body.tasks.find((v: { output_variable: string }) => v.output_variable === "broken");
    assert.equal(broken.status, "failed");
    assert.match(broken.error.message, /this prompt is refused/);
  });

  it("generates images and videos through Google AI and serves them as artifacts", async () => {
    google.pollsUntilDone = 3;
    const res = await t.post("/workflow", {
      workflow: [
        {
          type: "linear",
          tasks: [
            task("image_generation_ai", "a red bottle", "image"),
            task("video_generation_ai", "a bottle on a beach", "video"),
          ],
        },
      ],
    });
    assert.equal(res.body.status, "completed");
    assert.match(res.body.outputs.image, /^\/artifacts\/[0-9a-f-]{36}$/);
    const image = await fetch(`${t.url}${res.body.outputs.image}`);
    assert.equal(image.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), fakePng);
    const video = await fetch(`${t.url}${res.body.outputs.video}`);
    assert.equal(video.headers.get("content-type"), "video/mp4");
    assert.deepEqual(Buffer.from(await video.arrayBuffer()), fakeMp4);
    const paths = google.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, "ID")}`);
    assert.ok(paths.includes("POST /v1beta/models/gemini-nano-banana-2.1:generateContent"));
    assert.ok(paths.includes("POST /v1beta/models/veo-3.1-generate-001:predictLongRunning"));
    assert.equal(
      paths.filter((p) => p.startsWith("GET /v1beta/models/veo-3.1-generate-001/operations/")).length,
      3,
    );
    assert.ok(paths.some((p) => p.startsWith("GET /v1beta/files/ID:download")));
    assert.ok(
      google.requests.every((r) => r.apiKey === google.apiKey),
      "the key travels in the header",
    );
    const imageTask = res.body.tasks.find((v: { output_variable: string }) => v.output_variable === "image");
    assert.equal(imageTask.usage.cost_usd, 0.0336);
    const videoTask = res.body.tasks.find((v: { output_variable: string }) => v.output_variable === "video");
    assert.equal(videoTask.usage.cost_usd, 3.2);
  });

  it("reports a failed video operation, and retries a 503 from Google AI", async () => {
    google.failNextVideo("the prompt was blocked");
    const failed = await t.post("/workflow", {
      workflow: [{ type: "inline", tasks: [task("video_generation_ai", "x", "video")] }],
    });
    assert.equal(failed.body.status, "failed");
    assert.match(failed.body.error.message, /the prompt was blocked/);
    google.enqueueFault({ status: 503, message: "overloaded" });
    const retried = await t.post("/workflow", {
      workflow: [{ type: "inline", tasks: [task("image_generation_ai", "x", "image")] }],
    });
    assert.equal(retried.body.status, "completed");
  });

  it("lists the templates with their variables", async () => {
    const res = await t.get("/templates");
    const names = res.body.templates.map((tpl: { name: string }) => tpl.name);
    assert.deepEqual(names.sort(), ["code_project", "marketing_campaign", "research_report"]);
    const marketing = res.body.templates.find((tpl: { name: string }) => tpl.name === "marketing_campaign");
    assert.deepEqual(
      marketing.variables.map((v: { name: string }) => v.name),
      ["product", "audience", "tone"],
    );
  });

  it("runs each template end to end", async () => {
    const runs: ReadonlyArray<[string, Record<string, string>, string[]]> = [
      [
        "research_report",
        { topic: "solid-state batteries" },
        [
          "primary_research",
          "secondary_research",
          "company_analysis",
          "future_outlook",
          "report",
          "executive_summary",
        ],
      ],
      [
        "marketing_campaign",
        { product: "eco-friendly water bottles" },
        [
          "creative_concept",
          "instagram_copy",
          "twitter_copy",
          "facebook_copy",
          "product_image",
          "promo_video",
          "email_templates",
        ],
      ],
      [
        "code_project",
        { project: "a URL shortener" },
        ["architecture", "implementation", "tests", "documentation", "code_review"],
      ],
    ];
    for (const [name, variables, outputs] of runs) {
      const res = await t.post(`/template/${name}`, variables);
      assert.equal(res.status, 200, name);
      assert.equal(res.body.status, "completed", `${name}: ${JSON.stringify(res.body.error)}`);
      assert.deepEqual(Object.keys(res.body.outputs).sort(), [...outputs].sort(), name);
    }
    const campaign = fake.requests.find((r) =>
      lastUserText(r).startsWith("Write three Instagram posts for eco-friendly water bottles"),
    );
    assert.ok(campaign, "template variables and earlier outputs reach the prompts");
    assert.match(
      lastUserText(campaign as RecordedRequest),
      /following this campaign concept:\ndone: Develop the creative concept/,
    );
  });

  it("refuses a template call with a missing or unknown variable, and an unknown template", async () => {
    const missing = await t.post("/template/marketing_campaign", { audience: "hikers" });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, "product");
    assert.match(missing.body.error.message, /product: is required by template marketing_campaign/);
    const unknown = await t.post("/template/marketing_campaign", { product: "x", colour: "red" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /colour: is not a variable of template marketing_campaign/);
    assert.equal((await t.post("/template/nope", { topic: "x" })).status, 404);
  });
});

describe("workflow limits and offline mode", () => {
  it("answers 429 with Retry-After past maxConcurrentWorkflows", async () => {
    const t = await startTestApp({ config: { orchestration: { maxConcurrentWorkflows: 1 } } });
    try {
      t.fake?.respondWith(workerResponder);
      const stuck = await t.post("/workflow", {
        async: true,
        workflow: [{ type: "inline", tasks: [task("medium_ai", "[hang]", "x")] }],
      });
      assert.equal(stuck.status, 202);
      const refused = await t.post("/workflow", {
        async: true,
        workflow: [{ type: "inline", tasks: [task("medium_ai", "y", "y")] }],
      });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, "too_many_workflows");
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      await t.delete(`/workflow/${stuck.body.workflow_id}`);
    } finally {
      await t.close();
    }
  });

  it("tries a task again (orchestration.maxRetries) when its call fails after its own retries", async () => {
    const t = await startTestApp({
      config: {
        orchestration: { maxRetries: 1 },
        errorHandling: { retry: { maxAttempts: { transient: 2 } } },
        models: { medium_ai: { fallbacks: [] } },
      },
    });
    try {
      t.fake?.respondWith(workerResponder);
      const outage = { kind: "error", status: 503, message: "overloaded" } as const;
      // Two failures spend the call's own tries; the third fails the task's retry's first try.
      // The first one is slow (1 s, ample on a busy machine), so the event stream below is connected
      // before the retry, an event that is not replayed.
      t.fake?.enqueue({ ...outage, delayMs: 1_000 }, outage, outage);
      const res = await t.post("/workflow", {
        async: true,
        workflow: [{ type: "inline", tasks: [task("medium_ai", "x", "x")] }],
      });
      const events = await (await fetch(`${t.url}/workflow/${res.body.workflow_id}/events`)).text();
      assert.deepEqual(
        [...events.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]),
        ["task_started", "task_retrying", "task_completed", "workflow_finished"],
      );
      assert.match(events, /"attempt":2,"delay_ms":\d+,"error":\{"type":"transient"/);
      const record = await t.get(`/workflow/${res.body.workflow_id}`);
      assert.equal(record.body.status, "completed");
      assert.equal(t.fake?.requests.length, 4);

      t.fake?.enqueue(outage, outage, outage, outage);
      const failed = await t.post("/workflow", {
        workflow: [{ type: "inline", tasks: [task("medium_ai", "y", "y")] }],
      });
      assert.equal(failed.body.status, "failed", "one task retry, and no more");
      assert.equal(t.fake?.requests.length, 8);
    } finally {
      await t.close();
    }
  });

  it("fails image tasks clearly in live mode without a Google key", async () => {
    const t = await startTestApp();
    try {
      const res = await t.post("/workflow", {
        workflow: [{ type: "inline", tasks: [task("image_generation_ai", "x", "image")] }],
      });
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.error.code, "provider_not_configured");
      assert.match(res.body.error.message, /GOOGLE_AI_API_KEY/);
    } finally {
      await t.close();
    }
  });

  it("runs a template offline, with simulated images marked as such", async () => {
    const t = await startTestApp({ mode: "offline" });
    try {
      const res = await t.post("/template/marketing_campaign", { product: "eco-friendly water bottles" });
      assert.equal(res.body.status, "completed");
      assert.match(
        res.body.outputs.instagram_copy,
        /^\[simulated response from meta-llama\/llama-3\.3-70b-instruct\]/,
      );
      const image = await fetch(`${t.url}${res.body.outputs.product_image}`);
      assert.equal(image.headers.get("content-type"), "image/svg+xml");
      assert.equal(image.headers.get("x-simulated"), "true");
      assert.match(await image.text(), /\[simulated image\]/);
    } finally {
      await t.close();
    }
  });
});

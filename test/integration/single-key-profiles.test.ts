import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { anthropicView, startFakeAnthropic } from "../fakes/fake-anthropic.ts";
import { geminiView, startFakeGemini } from "../fakes/fake-gemini.ts";
import { openAiView, startFakeOpenAi } from "../fakes/fake-openai.ts";
import type { FakeUpstream, UpstreamRequest } from "../fakes/fake-upstream.ts";
import { finishedRun, startTestApp, type TestApp } from "../support/test-app.ts";

// Each single-key profile, end to end: the service started with only that provider's key, pointed at a fake
// of that provider's own API, serves every API family and a workflow on it.

interface Profile {
  readonly name: "openai" | "anthropic" | "google";
  readonly provider: string;
  readonly start: () => Promise<FakeUpstream>;
  readonly env: (fake: FakeUpstream) => NodeJS.ProcessEnv;
  readonly view: (request: UpstreamRequest) => {
    model: string;
    system: string;
    lastUser: string;
    stream: boolean;
  };
  // The header the key travels in.
  readonly keyHeader: (fake: FakeUpstream) => [string, string];
  readonly models: { readonly medium: string; readonly fast: string; readonly categorizer: string };
  // A model id a client names directly, with the provider's vendor prefix, and what reaches the upstream.
  readonly direct: readonly [string, string];
  // USD per million tokens (in, out) of medium_ai and categorizer_ai: each fake call is 100 in, 20 out.
  readonly mediumPrice: readonly [number, number];
  readonly categorizerPrice: readonly [number, number];
}

const profiles: readonly Profile[] = [
  {
    name: "openai",
    provider: "openai",
    start: () => startFakeOpenAi(),
    env: (fake) => ({ OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.baseUrl }),
    view: openAiView,
    keyHeader: (fake) => ["authorization", `Bearer ${fake.apiKey}`],
    models: { medium: "gpt-6.1-terra", fast: "gpt-6-luna", categorizer: "gpt-6-luna" },
    direct: ["openai/gpt-6.1-sol", "gpt-6.1-sol"],
    mediumPrice: [1, 5],
    categorizerPrice: [0.1, 0.5],
  },
  {
    name: "anthropic",
    provider: "anthropic",
    start: () => startFakeAnthropic(),
    env: (fake) => ({ ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.baseUrl }),
    view: anthropicView,
    keyHeader: (fake) => ["x-api-key", fake.apiKey],
    models: { medium: "claude-sonnet-5-5", fast: "claude-haiku-5-5", categorizer: "claude-haiku-5-5" },
    direct: ["anthropic/claude-opus-5-5", "claude-opus-5-5"],
    mediumPrice: [2, 10],
    categorizerPrice: [0.1, 0.5],
  },
  {
    name: "google",
    provider: "google_ai",
    start: () => startFakeGemini(),
    env: (fake) => ({ GEMINI_API_KEY: fake.apiKey, GOOGLE_AI_BASE_URL: fake.baseUrl }),
    view: geminiView,
    keyHeader: (fake) => ["x-goog-api-key", fake.apiKey],
    models: {
      medium: "gemini-3.8-flash",
      fast: "gemini-3.1-flash-lite",
      categorizer: "gemini-3.1-flash-lite",
    },
    direct: ["google/gemini-3.8-flash", "gemini-3.8-flash"],
    mediumPrice: [0.75, 3.75],
    categorizerPrice: [0.25, 1.5],
  },
];

for (const profile of profiles) {
  describe(`the ${profile.name} profile (only its key set)`, () => {
    let fake: FakeUpstream;
    let t: TestApp;
    before(async () => {
      fake = await profile.start();
      t = await startTestApp({ mode: "offline", env: profile.env(fake) });
    });
    after(async () => {
      await t.close();
      await fake.close();
    });

    it("says which profile is in force on /health", async () => {
      const health = await t.get("/health");
      assert.equal(health.status, 200);
      assert.equal(health.body.mode, "live");
      assert.equal(health.body.profile, profile.name);
      assert.equal(health.body.provider, profile.provider);
      assert.equal(health.body.notice, undefined);
    });

    it("answers /chat through the categorizer and medium_ai on the provider, with its key, priced at its list price", async () => {
      fake.clear();
      const res = await t.post("/chat", { message: "What are the benefits of renewable energy?" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.category, "M");
      assert.equal(res.body.provider, profile.provider);
      assert.equal(res.body.model, profile.models.medium);
      assert.match(res.body.response, new RegExp(`answer from ${profile.models.medium}`));
      // The reply's cost is the whole request's: the categorizer's call and medium_ai's.
      const [input, output] = profile.mediumPrice;
      const [labelIn, labelOut] = profile.categorizerPrice;
      const expected = (100 * input + 20 * output + 100 * labelIn + 20 * labelOut) / 1e6;
      assert.ok(Math.abs(res.body.usage.cost_usd - expected) < 1e-9, String(res.body.usage.cost_usd));
      const models = fake.requests.map((r) => profile.view(r).model);
      assert.deepEqual(models, [profile.models.categorizer, profile.models.medium]);
      const [header, value] = profile.keyHeader(fake);
      for (const request of fake.requests) assert.equal(request.headers[header], value);
    });

    it("answers /v1/chat/completions, whole and streamed", async () => {
      fake.clear();
      const whole = await t.post("/v1/chat/completions", {
        model: "medium_ai",
        messages: [{ role: "user", content: "Name three rivers" }],
      });
      assert.equal(whole.status, 200, JSON.stringify(whole.body));
      assert.match(whole.body.choices[0].message.content, /answer from .* Name three rivers/);
      assert.equal(whole.body.usage.prompt_tokens, 100);
      const streamed = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "medium_ai",
          stream: true,
          messages: [{ role: "user", content: "Name three lakes" }],
        }),
      });
      assert.equal(streamed.status, 200);
      const text = await streamed.text();
      const deltas = text
        .split("\n")
        .filter((line) => line.startsWith("data: {"))
        .map((line) => JSON.parse(line.slice(6)) as { choices: Array<{ delta?: { content?: string } }> })
        .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
        .join("");
      assert.match(deltas, /answer from .* Name three lakes/);
      assert.match(text, /data: \[DONE\]/);
      assert.ok(fake.requests.some((r) => profile.view(r).stream));
    });

    it("sends a model id named directly to the provider, without its vendor prefix", async () => {
      fake.clear();
      const [named, sent] = profile.direct;
      const res = await t.post("/v1/chat/completions", {
        model: named,
        messages: [{ role: "user", content: "Hi" }],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        fake.requests.map((r) => profile.view(r).model),
        [sent],
      );
    });

    it("answers /v1/messages", async () => {
      fake.clear();
      const res = await t.post(
        "/v1/messages",
        { model: "fast_ai", max_tokens: 200, messages: [{ role: "user", content: "Say hello" }] },
        { "anthropic-version": "2023-06-01" },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.type, "message");
      assert.match(res.body.content[0].text, new RegExp(`answer from ${profile.models.fast} to: Say hello`));
    });

    it("runs an H request's workflow on the provider: plan, task, finished answer", async () => {
      fake.clear();
      const res = await t.post("/chat", { message: "Build the quarterly report, a workflow please" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.category, "H");
      const run = await finishedRun(t, res.body.workflow_id);
      assert.equal(run.status, "completed", JSON.stringify(run));
      const systems = fake.requests.map((r) => profile.view(r).system);
      assert.ok(systems.some((s) => /You are the planner/.test(s)));
      assert.ok(systems.some((s) => /final answer to the user's request/.test(s)));
    });

    it("refuses a role it cannot serve with an error naming the key to set", async () => {
      const res = await t.post("/v1/images/generations", {
        prompt: "a red bicycle",
        model: "image_generation_ai",
      });
      if (profile.name === "google") return;
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.match(res.body.error.message, /GEMINI_API_KEY/);
    });
  });
}

describe("profile precedence and offline", () => {
  it("with no key at all stays offline; with OpenRouter's and another key, OpenRouter wins", async () => {
    const offline = await startTestApp({ mode: "offline" });
    try {
      const health = await offline.get("/health");
      assert.equal(health.body.profile, "offline");
      assert.equal(health.body.provider, "simulated");
    } finally {
      await offline.close();
    }
    const openai = await startFakeOpenAi();
    const both = await startTestApp({
      mode: "live",
      env: { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl },
    });
    try {
      const health = await both.get("/health");
      assert.equal(health.body.profile, "openrouter");
      const res = await both.post("/chat", { message: "What are the benefits of renewable energy?" });
      assert.equal(res.body.provider, "openrouter");
      assert.equal(openai.requests.length, 0);
    } finally {
      await both.close();
      await openai.close();
    }
  });
});

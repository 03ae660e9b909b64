import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaultModels } from "../../../src/config/defaults/models.ts";
import { loadConfig, parseConfig } from "../../../src/config/index.ts";

function expectConfigError(run: () => unknown, ...fragments: string[]) {
  assert.throws(run, (error: Error) => {
    for (const fragment of fragments)
      assert.match(error.message, new RegExp(fragment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    return true;
  });
}

describe("config", () => {
  it("fills every setting with the spec's defaults when the file is empty", () => {
    const config = parseConfig({});
    assert.equal(config.system.port, 8000);
    assert.equal(config.system.logLevel, "info");
    assert.equal(config.orchestration.maxConcurrentWorkflows, 1000);
    assert.equal(config.orchestration.defaultTimeoutSeconds, 300);
    assert.equal(config.queuing.highPriorityRatio, 0.6);
    assert.equal(config.routing.preRouting.thinkingContextTokens, 100_000);
    assert.equal(config.routing.preRouting.largeContextTokens, 200_000);
    assert.equal(config.routing.preRouting.maxContextTokens, 900_000);
    assert.deepEqual(config.routing.categories, { L: "thinking_ai", M: "medium_ai", H: "orchestration" });
    assert.equal(config.providers.openrouter.baseUrl, "https://openrouter.ai/api/v1");
    assert.equal(config.errorHandling.circuitBreaker.failureThreshold, 5);
  });

  it("has the spec's model for every role", () => {
    const { models } = parseConfig({});
    const modelOf = (role: string) => {
      const entry = models[role];
      assert.ok(entry && typeof entry === "object", `${role} is a role`);
      return entry.model;
    };
    assert.equal(modelOf("categorizer_ai"), "meta-llama/llama-3.1-8b-instruct");
    assert.equal(modelOf("fast_ai"), "openai/gpt-oss-safeguard-20b");
    assert.equal(modelOf("medium_ai"), "meta-llama/llama-3.3-70b-instruct");
    assert.equal(modelOf("thinking_ai"), "moonshotai/kimi-k2.6");
    assert.equal(modelOf("code_ai"), "moonshotai/kimi-k2.6");
    assert.equal(modelOf("image_analysis_ai"), "google/gemini-3.8-flash");
    assert.equal(modelOf("image_generation_ai"), "gemini-nano-banana-2.1");
    assert.equal(modelOf("video_generation_ai"), "veo-3.1-generate-001");
    assert.equal(models.research_ai, "thinking_ai");
    assert.equal(models.product_ai, "medium_ai");
  });

  it("ships 50 addons including every one the spec names", () => {
    const { addons } = parseConfig({});
    assert.equal(Object.keys(addons).length, 50);
    for (const name of [
      "blog_writing",
      "headline_optimization",
      "storytelling",
      "case_study",
      "email_campaigns",
      "ad_copy",
      "landing_page",
      "value_proposition",
      "instagram",
      "linkedin",
      "tiktok",
      "twitter",
      "business_proposal",
      "executive_presentation",
      "swot_analysis",
      "customer_persona",
    ]) {
      const addon = addons[name];
      assert.ok(addon, `${name} is present`);
      assert.ok(addon.prompt.length > 40 && addon.description.length > 10 && addon.category.length > 0);
    }
  });

  it("lays a role from the file over the built-in role, keeping what it does not change", () => {
    const config = parseConfig({ models: { medium_ai: { pricing: { inputPerMillion: 9 } } } });
    const medium = config.models.medium_ai;
    assert.ok(typeof medium === "object");
    assert.equal(medium.model, "meta-llama/llama-3.3-70b-instruct");
    assert.equal(medium.pricing.inputPerMillion, 9);
    assert.equal(medium.pricing.outputPerMillion, 0.32);
  });

  it("does not keep the old prices when a role gets another model", () => {
    expectConfigError(
      () => parseConfig({ models: { medium_ai: { model: "mistralai/mistral-large" } } }),
      "models.medium_ai.pricing",
    );
  });

  it("names the bad field", () => {
    expectConfigError(
      () => parseConfig({ system: { port: "eighty" } }, {}, "my.json"),
      "my.json",
      "system.port",
    );
    expectConfigError(
      () => parseConfig({ models: { fast_ai: { pricing: { inputPerMillion: -1 } } } }),
      "models.fast_ai.pricing.inputPerMillion",
    );
    expectConfigError(() => parseConfig({ sytem: {} }), "sytem");
    expectConfigError(() => parseConfig({ queuing: { highPriorityRatio: 0.9 } }), "queuing", "add up to 1");
    expectConfigError(() => parseConfig({ system: { logLevel: "loud" } }), "system.logLevel");
  });

  it("refuses references to roles that do not exist", () => {
    expectConfigError(
      () => parseConfig({ routing: { categories: { M: "nobody_ai" } } }),
      "routing.categories.M",
      "nobody_ai",
    );
    expectConfigError(
      () => parseConfig({ models: { writer_ai: "ghost_ai" } }),
      "models.writer_ai",
      "ghost_ai",
    );
    expectConfigError(
      () => parseConfig({ routing: { warmup: { roles: ["fast_ai", "nope_ai"] } } }),
      "routing.warmup.roles.1",
    );
  });

  it("checks the shadow sampling settings: a rate from 0 to 1, a positive cap, roles that exist", () => {
    expectConfigError(
      () => parseConfig({ monitoring: { shadow: { sampleRate: 1.5 } } }),
      "monitoring.shadow.sampleRate",
    );
    expectConfigError(
      () => parseConfig({ monitoring: { shadow: { maxDailyUsd: 0 } } }),
      "monitoring.shadow.maxDailyUsd",
    );
    expectConfigError(
      () => parseConfig({ monitoring: { shadow: { judgeRole: "judge_ai" } } }),
      "monitoring.shadow.judgeRole",
      "judge_ai",
    );
    expectConfigError(
      () => parseConfig({ monitoring: { shadow: { baselineRole: "ghost_ai" } } }),
      "monitoring.shadow.baselineRole",
    );
    expectConfigError(() => parseConfig({ routing: { escalation: { enabld: true } } }), "enabld");
    const shadow = parseConfig({}).monitoring.shadow;
    assert.deepEqual(shadow, { sampleRate: 0, judgeRole: "thinking_ai", maxDailyUsd: 1, maxConcurrent: 4 });
  });

  it("refuses a role on a provider that cannot serve its kind", () => {
    expectConfigError(
      () => parseConfig({ models: { embedding_ai: { provider: "anthropic" } } }),
      "models.embedding_ai.provider",
      "a anthropic provider does not serve embedding roles (a provider of type openrouter or openai does)",
    );
    expectConfigError(
      () => parseConfig({ models: { video_generation_ai: { provider: "openrouter" } } }),
      "models.video_generation_ai.provider",
      "does not serve video roles (a provider of type google does)",
    );
    expectConfigError(
      () => parseConfig({ models: { medium_ai: { provider: "ollama" } } }),
      "models.medium_ai.provider: 'ollama' is not a provider defined in providers",
    );
    // Chat runs on Gemini too, through google_ai.
    const gemini = parseConfig({
      models: {
        medium_ai: {
          provider: "google_ai",
          model: "gemini-3.8-flash",
          pricing: { inputPerMillion: 0.75, outputPerMillion: 3.75 },
        },
      },
    });
    assert.equal((gemini.models.medium_ai as { provider: string }).provider, "google_ai");
    // Images may come from OpenRouter too (chat completions with image output).
    const images = parseConfig({ models: { image_generation_ai: { provider: "openrouter" } } });
    const role = images.models.image_generation_ai;
    assert.equal(typeof role === "object" && role.provider, "openrouter");
  });

  it("lets environment variables override the file", () => {
    const config = parseConfig(
      { system: { port: 9000 } },
      {
        OPENROUTER_API_KEY: "sk-or-env",
        OPENROUTER_BASE_URL: "http://127.0.0.1:1234/v1",
        GOOGLE_AI_API_KEY: "g-env",
        GOOGLE_AI_BASE_URL: "http://127.0.0.1:4321/v1beta",
        PORT: "8123",
        HOST: "127.0.0.1",
        DATABASE_URL: ":memory:",
        LOG_LEVEL: "DEBUG",
      },
    );
    assert.equal(config.api_keys.openrouter, "sk-or-env");
    assert.equal(config.api_keys.google_ai, "g-env");
    assert.equal(config.providers.openrouter.baseUrl, "http://127.0.0.1:1234/v1");
    assert.equal(config.providers.google_ai.baseUrl, "http://127.0.0.1:4321/v1beta");
    assert.equal(config.system.port, 8123);
    assert.equal(config.system.host, "127.0.0.1");
    assert.equal(config.system.databaseUrl, ":memory:");
    assert.equal(config.system.logLevel, "debug");
    expectConfigError(() => parseConfig({}, { PORT: "http" }), "PORT");
    expectConfigError(
      () => parseConfig({}, { OPENROUTER_BASE_URL: "not a url" }),
      "providers.openrouter.baseUrl",
    );
  });

  it("reads the file named by ORCHESTRATION_CONFIG and reports bad JSON with its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-"));
    writeFileSync(join(dir, "custom.json"), JSON.stringify({ system: { name: "Custom" } }));
    assert.equal(
      loadConfig({ cwd: dir, env: { ORCHESTRATION_CONFIG: "custom.json" } }).system.name,
      "Custom",
    );
    writeFileSync(join(dir, "broken.json"), "{ not json");
    expectConfigError(
      () => loadConfig({ cwd: dir, env: { ORCHESTRATION_CONFIG: "broken.json" } }),
      "broken.json",
      "not valid JSON",
    );
    expectConfigError(
      () => loadConfig({ cwd: dir, env: { ORCHESTRATION_CONFIG: "missing.json" } }),
      "missing.json",
      "cannot read",
    );
    // Without the variable and without a file, the built-in defaults apply.
    assert.equal(loadConfig({ cwd: dir, env: {} }).system.port, 8000);
  });

  it("ships an orchestration_config.json that is valid and agrees with the built-in models", () => {
    const shipped = JSON.parse(
      readFileSync(new URL("../../../orchestration_config.json", import.meta.url), "utf8"),
    );
    const config = parseConfig(shipped, {}, "orchestration_config.json");
    assert.deepEqual(parseConfig({ models: defaultModels }).models, config.models);
    assert.equal(shipped.api_keys.openrouter, "", "no key is committed");
  });
});

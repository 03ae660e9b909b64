import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/index.ts";
import { activeProfile } from "../../../src/config/profiles.ts";

const role = (config: ReturnType<typeof parseConfig>, name: string) => {
  const entry = config.models[name];
  assert.ok(typeof entry === "object");
  return entry;
};

describe("single-key profiles and providers as data", () => {
  it("picks OpenRouter first, then OpenAI, Anthropic and Gemini, and offline with no key", () => {
    const keys = {
      OPENROUTER_API_KEY: "or-key",
      OPENAI_API_KEY: "oa-key",
      ANTHROPIC_API_KEY: "an-key",
      GEMINI_API_KEY: "ge-key",
    };
    assert.equal(activeProfile(parseConfig({}, keys)), "openrouter");
    assert.equal(activeProfile(parseConfig({}, { ...keys, OPENROUTER_API_KEY: "" })), "openai");
    assert.equal(
      activeProfile(parseConfig({}, { ANTHROPIC_API_KEY: "a", GEMINI_API_KEY: "g" })),
      "anthropic",
    );
    assert.equal(activeProfile(parseConfig({}, { GOOGLE_AI_API_KEY: "g" })), "google");
    assert.equal(activeProfile(parseConfig({}, {})), "offline");
  });

  it("moves the OpenRouter roles to the profile's models, leaving media and local roles where they are", () => {
    const config = parseConfig(
      {
        providers: { local: { type: "openai", baseUrl: "http://127.0.0.1:11434/v1" } },
        models: {
          fast_ai: {
            provider: "local",
            model: "qwen3:8b",
            pricing: { inputPerMillion: 0, outputPerMillion: 0 },
          },
          thinking_ai: {
            provider: "anthropic",
            model: "claude-fable-5-1",
            pricing: { inputPerMillion: 10, outputPerMillion: 50 },
          },
        },
      },
      { ANTHROPIC_API_KEY: "an-key" },
    );
    assert.deepEqual(
      { provider: role(config, "medium_ai").provider, model: role(config, "medium_ai").model },
      { provider: "anthropic", model: "claude-sonnet-5-5" },
    );
    assert.equal(role(config, "categorizer_ai").model, "claude-haiku-5-5");
    assert.equal(role(config, "fast_ai").provider, "local");
    assert.equal(role(config, "thinking_ai").model, "claude-fable-5-1");
    assert.equal(role(config, "video_generation_ai").provider, "google_ai");
    // Anthropic serves no embeddings: the role stays on OpenRouter and is refused when called.
    assert.equal(role(config, "embedding_ai").provider, "openrouter");
    assert.equal(config.providers.anthropic.apiKey, "an-key");
  });

  it("reads each provider's key from its apiKeyEnv and the SDKs' base URL variables", () => {
    const config = parseConfig(
      {
        providers: {
          gateway: {
            type: "openai",
            baseUrl: "https://llm.example.com/v1",
            apiKeyEnv: "GATEWAY_KEY",
            headers: { "x-team": "a" },
          },
          local: { type: "openai", baseUrl: "http://127.0.0.1:8000/v1" },
        },
      },
      {
        GATEWAY_KEY: "gw-secret",
        OPENAI_BASE_URL: "https://example.openai.azure.com/openai/v1",
        ANTHROPIC_BASE_URL: "https://claude.example.com",
      },
    );
    const providers = config.providers as Record<
      string,
      { apiKey: string; apiKeyEnv?: string; baseUrl: string }
    >;
    assert.equal(providers.gateway?.apiKey, "gw-secret");
    assert.equal(providers.local?.apiKey, "");
    assert.equal(providers.local?.apiKeyEnv, undefined);
    assert.equal(config.providers.openai.baseUrl, "https://example.openai.azure.com/openai/v1");
    assert.equal(config.providers.anthropic.baseUrl, "https://claude.example.com");
  });

  it("refuses a provider entry without a type or with a bad name, naming it", () => {
    assert.throws(
      () => parseConfig({ providers: { local: { baseUrl: "http://127.0.0.1:1234/v1" } } }),
      /providers\.local\.type/,
    );
    assert.throws(
      () => parseConfig({ providers: { local: { type: "ollama", baseUrl: "http://127.0.0.1:1234/v1" } } }),
      /providers\.local\.type/,
    );
    assert.throws(
      () => parseConfig({ providers: { Local: { type: "openai", baseUrl: "http://x/v1" } } }),
      /lower case/,
    );
  });
});

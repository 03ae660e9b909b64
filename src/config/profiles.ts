import type { ModelRoleDefinition, ParsedConfig } from "./schema.ts";

// Which upstream serves the roles that would otherwise go to OpenRouter. With an OpenRouter key, OpenRouter
// (as always); without one, the first of an OpenAI, an Anthropic or a Gemini key; with none, offline.
export const profileNames = ["openrouter", "openai", "anthropic", "google", "offline"] as const;
export type ProfileName = (typeof profileNames)[number];

// The provider name under `providers` each single-key profile sends its roles to.
export const profileProvider = {
  openrouter: "openrouter",
  openai: "openai",
  anthropic: "anthropic",
  google: "google_ai",
  offline: "openrouter",
} as const satisfies Record<ProfileName, string>;

// The variable a profile needs, for messages that tell someone which key to set.
export const profileKeyVariable = {
  openrouter: "OPENROUTER_API_KEY",
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  google: "GEMINI_API_KEY (or GOOGLE_AI_API_KEY)",
  offline: "OPENROUTER_API_KEY",
} as const satisfies Record<ProfileName, string>;

export function activeProfile(config: Pick<ParsedConfig, "api_keys" | "providers">): ProfileName {
  if (config.api_keys.openrouter) return "openrouter";
  if (config.providers.openai.apiKey) return "openai";
  if (config.providers.anthropic.apiKey) return "anthropic";
  if (config.api_keys.google_ai) return "google";
  return "offline";
}

type ProfileRole = Pick<
  ModelRoleDefinition,
  "model" | "contextWindow" | "maxOutputTokens" | "pricing" | "reasoning"
> & { readonly kind?: "chat" | "embedding" };

// Each role's model on each provider: its current model for the job, with list prices in USD per million
// tokens (the README's "Single-key profiles" table cites the pages they come from). A config file that names
// the profile's provider for a role, with its own model, overrides these.
// List prices in USD per million tokens, with the prompt-cache prices where the provider publishes them
// (absent: the default multipliers of the Prompt caching section).
function price(
  input: number,
  output: number,
  cacheRead?: number,
  cacheWrite?: number,
): ProfileRole["pricing"] {
  return {
    inputPerMillion: input,
    outputPerMillion: output,
    ...(cacheRead === undefined ? {} : { cacheReadPerMillion: cacheRead }),
    ...(cacheWrite === undefined ? {} : { cacheWritePerMillion: cacheWrite }),
  };
}
const luna = price(0.1, 0.5, 0.01, 0.125);
const terra = price(1, 5, 0.05, 1.25);
const sol = price(2, 10, 0.1, 2.5);
const haiku = price(0.1, 0.5, 0.01, 0.125);
const sonnet = price(2, 10, 0.1, 2.5);
const opus = price(4, 20, 0.2, 5);
const flashLite = price(0.25, 1.5);
const flash = price(0.75, 3.75, 0.075);

const profileRoles: Record<"openai" | "anthropic" | "google", Record<string, ProfileRole>> = {
  // OpenAI's current generation (https://developers.openai.com/api/docs/models/gpt-6-luna and the GPT-6.1 Terra
  // and Sol pages; https://developers.openai.com/api/docs/pricing): Luna $0.10 / $0.50 (cache read $0.01,
  // write $0.125), Terra $1 / $5 ($0.05, $1.25), Sol $2 / $10 ($0.10, $2.50); 1,050,000-token context. Luna
  // takes tools on Chat Completions only with reasoning effort none, so its roles run at none.
  openai: {
    categorizer_ai: chat("gpt-6-luna", 1_050_000, 32, luna, { effort: "none", exclude: true }),
    fast_ai: chat("gpt-6-luna", 1_050_000, 1024, luna, { effort: "none", exclude: true }),
    medium_ai: chat("gpt-6.1-terra", 1_050_000, 4096, terra),
    thinking_ai: chat("gpt-6.1-sol", 1_050_000, 16384, sol, { effort: "medium", exclude: true }),
    code_ai: chat("gpt-6.1-sol", 1_050_000, 16384, sol, { effort: "medium", exclude: true }),
    image_analysis_ai: chat("gpt-6.1-terra", 1_050_000, 8192, terra),
    embedding_ai: {
      kind: "embedding",
      model: "text-embedding-3-small",
      contextWindow: 8192,
      maxOutputTokens: 1,
      pricing: { inputPerMillion: 0.02, outputPerMillion: 0 },
    },
  },
  // https://platform.claude.com/docs/en/models/overview and each model's page: Haiku 5.5 ($0.10 / $0.50 up
  // to 100K-token prompts; cache read $0.01, 5-minute write $0.125), Sonnet 5.5 ($2 / $10; $0.10, $2.50),
  // Opus 5.5 ($4 / $20; $0.20, $5); 1M-token context, 128K output.
  anthropic: {
    categorizer_ai: chat("claude-haiku-5-5", 1_000_000, 32, haiku),
    fast_ai: chat("claude-haiku-5-5", 1_000_000, 1024, haiku),
    medium_ai: chat("claude-sonnet-5-5", 1_000_000, 4096, sonnet),
    thinking_ai: chat("claude-opus-5-5", 1_000_000, 16384, opus),
    code_ai: chat("claude-opus-5-5", 1_000_000, 16384, opus),
    image_analysis_ai: chat("claude-sonnet-5-5", 1_000_000, 8192, sonnet),
  },
  // https://ai.google.dev/gemini-api/docs/models and /pricing: Gemini 3.1 Flash-Lite ($0.25 / $1.50) for the
  // quick jobs, Gemini 3.8 Flash ($0.75 / $3.75 through 2026-12-31, cache read $0.075) for the rest;
  // 1,048,576-token context.
  google: {
    categorizer_ai: chat("gemini-3.1-flash-lite", 1_048_576, 32, flashLite),
    fast_ai: chat("gemini-3.1-flash-lite", 1_048_576, 1024, flashLite),
    medium_ai: chat("gemini-3.8-flash", 1_048_576, 4096, flash),
    thinking_ai: chat("gemini-3.8-flash", 1_048_576, 16384, flash, { effort: "high", exclude: true }),
    code_ai: chat("gemini-3.8-flash", 1_048_576, 16384, flash, { effort: "high", exclude: true }),
    image_analysis_ai: chat("gemini-3.8-flash", 1_048_576, 8192, flash),
  },
};

function chat(
  model: string,
  contextWindow: number,
  maxOutputTokens: number,
  pricing: ProfileRole["pricing"],
  reasoning?: ProfileRole["reasoning"],
): ProfileRole {
  return { model, contextWindow, maxOutputTokens, pricing, ...(reasoning ? { reasoning } : {}) };
}

// The profile's model for a role, when it has one.
export function profileRole(profile: ProfileName, role: string): ProfileRole | undefined {
  if (profile === "openrouter" || profile === "offline") return undefined;
  return profileRoles[profile][role];
}

// With a single-key profile, every role still on OpenRouter (which has no key) moves to the profile's
// provider: the built-in roles to the profile's model for the job, any other chat role to the model its
// medium_ai uses. Roles on other providers (a local server, google_ai's media) stay where they are; an
// embedding role the profile cannot serve stays on OpenRouter and is refused, naming the key to set.
export function applyProfile(models: ParsedConfig["models"], profile: ProfileName): ParsedConfig["models"] {
  if (profile === "openrouter" || profile === "offline") return models;
  const provider = profileProvider[profile];
  const moved: Record<string, ParsedConfig["models"][string]> = {};
  for (const [name, entry] of Object.entries(models)) {
    if (typeof entry !== "object" || entry.provider !== "openrouter") {
      moved[name] = entry;
      continue;
    }
    const target =
      profileRole(profile, name) ?? (entry.kind === "chat" ? profileRole(profile, "medium_ai") : undefined);
    if (!target || (target.kind ?? "chat") !== entry.kind) {
      moved[name] = entry;
      continue;
    }
    const { reasoning: _dropped, ...rest } = entry;
    moved[name] = {
      ...rest,
      provider,
      model: target.model,
      contextWindow: target.contextWindow,
      maxOutputTokens: target.maxOutputTokens,
      pricing: target.pricing,
      fallbacks: [],
      ...(target.reasoning ? { reasoning: target.reasoning } : {}),
    };
  }
  return moved;
}

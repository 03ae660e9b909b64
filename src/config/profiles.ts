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
const profileRoles: Record<"openai" | "anthropic" | "google", Record<string, ProfileRole>> = {
  // https://developers.openai.com/api/docs/models/gpt-5.6-luna (Luna: the nano tier, $0.20 / $1.20),
  // https://developers.openai.com/api/docs/models (Terra $2 / $12, Sol $4 / $20), 1,050,000-token context.
  openai: {
    categorizer_ai: chat("gpt-5.6-luna", 1_050_000, 32, 0.2, 1.2, { effort: "none", exclude: true }),
    fast_ai: chat("gpt-5.6-luna", 1_050_000, 1024, 0.2, 1.2, { effort: "low", exclude: true }),
    medium_ai: chat("gpt-5.6-terra", 1_050_000, 4096, 2, 12),
    thinking_ai: chat("gpt-5.6-sol", 1_050_000, 16384, 4, 20, { effort: "medium", exclude: true }),
    code_ai: chat("gpt-5.6-sol", 1_050_000, 16384, 4, 20, { effort: "medium", exclude: true }),
    image_analysis_ai: chat("gpt-5.6-terra", 1_050_000, 8192, 2, 12),
    embedding_ai: {
      kind: "embedding",
      model: "text-embedding-3-small",
      contextWindow: 8192,
      maxOutputTokens: 1,
      pricing: { inputPerMillion: 0.02, outputPerMillion: 0 },
    },
  },
  // https://platform.claude.com/docs/en/models/overview and each model's page: Haiku 5.5 ($0.10 / $0.50 up
  // to 100K-token prompts), Sonnet 5.5 ($2 / $10), Opus 5.5 ($4 / $20); 1M-token context, 128K output.
  anthropic: {
    categorizer_ai: chat("claude-haiku-5-5", 1_000_000, 32, 0.1, 0.5),
    fast_ai: chat("claude-haiku-5-5", 1_000_000, 1024, 0.1, 0.5),
    medium_ai: chat("claude-sonnet-5-5", 1_000_000, 4096, 2, 10),
    thinking_ai: chat("claude-opus-5-5", 1_000_000, 16384, 4, 20),
    code_ai: chat("claude-opus-5-5", 1_000_000, 16384, 4, 20),
    image_analysis_ai: chat("claude-sonnet-5-5", 1_000_000, 8192, 2, 10),
  },
  // https://ai.google.dev/gemini-api/docs/models and /pricing: Gemini 3.1 Flash-Lite ($0.25 / $1.50) for the
  // quick jobs, Gemini 3.8 Flash ($0.75 / $3.75) for the rest; 1,048,576-token context.
  google: {
    categorizer_ai: chat("gemini-3.1-flash-lite", 1_048_576, 32, 0.25, 1.5),
    fast_ai: chat("gemini-3.1-flash-lite", 1_048_576, 1024, 0.25, 1.5),
    medium_ai: chat("gemini-3.8-flash", 1_048_576, 4096, 0.75, 3.75),
    thinking_ai: chat("gemini-3.8-flash", 1_048_576, 16384, 0.75, 3.75, { effort: "high", exclude: true }),
    code_ai: chat("gemini-3.8-flash", 1_048_576, 16384, 0.75, 3.75, { effort: "high", exclude: true }),
    image_analysis_ai: chat("gemini-3.8-flash", 1_048_576, 8192, 0.75, 3.75),
  },
};

function chat(
  model: string,
  contextWindow: number,
  maxOutputTokens: number,
  inputPerMillion: number,
  outputPerMillion: number,
  reasoning?: ProfileRole["reasoning"],
): ProfileRole {
  return {
    model,
    contextWindow,
    maxOutputTokens,
    pricing: { inputPerMillion, outputPerMillion },
    ...(reasoning ? { reasoning } : {}),
  };
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

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { OrchestratorError } from "../core/errors.ts";
import { builtInAddons } from "./defaults/addons.ts";
import { defaultModels } from "./defaults/models.ts";
import { builtInTemplates } from "./defaults/templates.ts";
import { otelFromEnv, otelVariables } from "./otel-env.ts";
import { activeProfile, applyProfile } from "./profiles.ts";
import { configSchema, type ParsedConfig } from "./schema.ts";

export type AppConfig = ParsedConfig;

export interface LoadConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export const defaultConfigFile = "orchestration_config.json";

export function configError(source: string, problems: readonly string[]): OrchestratorError {
  return new OrchestratorError({
    kind: "fatal",
    code: "invalid_config",
    message: `Invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  });
}

// Reads the config file named by ORCHESTRATION_CONFIG (or ./orchestration_config.json when present),
// applies environment overrides, validates, and checks that every role a setting names exists.
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicitPath = env.ORCHESTRATION_CONFIG;
  const path = resolve(cwd, explicitPath ?? defaultConfigFile);
  const raw = readConfigFile(path, explicitPath !== undefined);
  return parseConfig(raw, env, explicitPath ?? (raw === undefined ? "built-in defaults" : defaultConfigFile));
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, source = "config"): AppConfig {
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw configError(source, ["the file must hold a JSON object"]);
  }
  const fileConfig = (raw ?? {}) as Record<string, unknown>;
  const withDefaults = { ...fileConfig, models: mergeModels(fileConfig.models) };
  const withEnv = applyEnvOverrides(withDefaults, env, source);
  const result = configSchema.safeParse(withEnv);
  if (!result.success) throw configError(source, formatIssues(result.error.issues));
  const providers = withProviderKeys(result.data.providers, env);
  const profile = activeProfile({ api_keys: result.data.api_keys, providers });
  const config = {
    ...result.data,
    providers,
    models: applyProfile(result.data.models, profile),
    addons: { ...builtInAddons, ...result.data.addons },
    templates: { ...builtInTemplates, ...result.data.templates },
  };
  const problems = checkReferences(config);
  if (problems.length > 0) throw configError(source, problems);
  return config;
}

// Each provider's key from the variable its apiKeyEnv names, unless the file gave the key itself.
function withProviderKeys(
  providers: ParsedConfig["providers"],
  env: NodeJS.ProcessEnv,
): ParsedConfig["providers"] {
  const resolved: Record<string, unknown> = { ...providers };
  for (const [name, entry] of Object.entries(providers) as [string, Record<string, unknown>][]) {
    if (typeof entry.apiKeyEnv !== "string" || entry.apiKey) continue;
    resolved[name] = { ...entry, apiKey: env[entry.apiKeyEnv]?.trim() ?? "" };
  }
  return resolved as ParsedConfig["providers"];
}

function readConfigFile(path: string, required: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw configError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw configError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
}

// A role in the file is laid over the built-in role of the same name, so changing one price
// does not mean restating the whole role.
function mergeModels(fileModels: unknown): unknown {
  if (fileModels === undefined) return { ...defaultModels };
  if (typeof fileModels !== "object" || fileModels === null || Array.isArray(fileModels)) return fileModels;
  const merged: Record<string, unknown> = { ...defaultModels };
  for (const [name, value] of Object.entries(fileModels)) {
    const base = merged[name];
    merged[name] = isPlainObject(base) && isPlainObject(value) ? mergeRole(base, value) : value;
  }
  return merged;
}

function mergeRole(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  // A new model id brings its own prices and fallbacks; keep the old ones only if the model stays.
  const modelChanged = override.model !== undefined && override.model !== base.model;
  const merged = { ...(modelChanged ? omit(base, ["pricing", "fallbacks"]) : base), ...override };
  if (isPlainObject(base.pricing) && isPlainObject(override.pricing) && !modelChanged) {
    merged.pricing = { ...base.pricing, ...override.pricing };
  }
  return merged;
}

function omit(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.includes(key)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface EnvOverride {
  readonly variable: string;
  readonly section: string;
  readonly key: string;
  readonly parse?: (value: string) => unknown;
}

const envOverrides: readonly EnvOverride[] = [
  { variable: "OPENROUTER_API_KEY", section: "api_keys", key: "openrouter" },
  // Google's SDKs read GEMINI_API_KEY; GOOGLE_AI_API_KEY, this service's older name, wins when both are set.
  { variable: "GEMINI_API_KEY", section: "api_keys", key: "google_ai" },
  { variable: "GOOGLE_AI_API_KEY", section: "api_keys", key: "google_ai" },
  { variable: "PORT", section: "system", key: "port", parse: parsePort },
  { variable: "HOST", section: "system", key: "host" },
  { variable: "DATABASE_URL", section: "system", key: "databaseUrl" },
  { variable: "LOG_LEVEL", section: "system", key: "logLevel" },
  { variable: "DATA_DIR", section: "system", key: "dataDir" },
  { variable: "REDIS_URL", section: "system", key: "redisUrl" },
];

// Every environment variable the configuration reads; `.env.example` documents each (a test checks it).
export const environmentVariables: readonly string[] = [
  "ORCHESTRATION_CONFIG",
  ...envOverrides.map((override) => override.variable),
  "ORCHESTRATOR_API_KEYS",
  "OPENROUTER_BASE_URL",
  "GOOGLE_AI_BASE_URL",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  ...otelVariables,
];

function applyEnvOverrides(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  source: string,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...config };
  const section = (name: string): Record<string, unknown> => {
    const current = result[name];
    const copy = isPlainObject(current) ? { ...current } : {};
    result[name] = copy;
    return copy;
  };
  for (const override of envOverrides) {
    const value = env[override.variable];
    if (value === undefined || value === "") continue;
    const parsed = override.parse ? override.parse(value) : value;
    if (parsed === undefined) {
      throw configError(source, [
        `${override.variable}: '${value}' is not valid for ${override.section}.${override.key}`,
      ]);
    }
    section(override.section)[override.key] = parsed;
  }
  const clientKeys = env.ORCHESTRATOR_API_KEYS;
  if (clientKeys !== undefined && clientKeys.trim() !== "") {
    section("api_keys").clients = clientKeys
      .split(",")
      .map((key) => key.trim())
      .filter(Boolean);
  }
  const providerUrls: ReadonlyArray<[string, string]> = [
    ["OPENROUTER_BASE_URL", "openrouter"],
    ["GOOGLE_AI_BASE_URL", "google_ai"],
    // As OpenAI's and Anthropic's SDKs take them (Azure-style and self-hosted endpoints).
    ["OPENAI_BASE_URL", "openai"],
    ["ANTHROPIC_BASE_URL", "anthropic"],
  ];
  for (const [variable, provider] of providerUrls) {
    const value = env[variable];
    if (value === undefined || value === "") continue;
    const providers = section("providers");
    const current = providers[provider];
    providers[provider] = { ...(isPlainObject(current) ? current : {}), baseUrl: value };
  }
  const otel = otelFromEnv(env, (problem) => configError(source, [problem]));
  if (Object.keys(otel).length > 0) {
    const monitoring = section("monitoring");
    const current = monitoring.otel;
    monitoring.otel = { ...(isPlainObject(current) ? current : {}), ...otel };
  }
  return result;
}

function parsePort(value: string): number | undefined {
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    // For "a role or an alias", report why the value failed as the option it was meant to be,
    // so the message names the inner field instead of a bare "Invalid input".
    if (issue.code === "invalid_union") {
      const meant = issue.errors.find((branch) =>
        branch.every((inner) => inner.path.length > 0 || inner.code !== "invalid_type"),
      );
      if (meant && meant.length > 0) return formatIssues(meant, path);
    }
    const where = path.map(String).join(".");
    return [where ? `${where}: ${issue.message}` : issue.message];
  });
}

// What each provider type serves: chat on all of them; embeddings on OpenAI-style APIs; images on
// OpenRouter (chat completions with image output) and Google; videos on Google (Veo).
const servedKinds: Record<string, readonly string[]> = {
  openrouter: ["chat", "embedding", "image"],
  openai: ["chat", "embedding"],
  anthropic: ["chat"],
  google: ["chat", "image", "video"],
};

function providerProblems(
  config: AppConfig,
  role: string,
  entry: Exclude<AppConfig["models"][string], string>,
): string[] {
  const providers = config.providers as Record<string, { type?: string } | undefined>;
  const provider = providers[entry.provider];
  if (!provider) {
    const names = Object.keys(providers).join(", ");
    return [`models.${role}.provider: '${entry.provider}' is not a provider defined in providers (${names})`];
  }
  const type = entry.provider === "google_ai" ? "google" : (provider.type ?? entry.provider);
  if ((servedKinds[type] ?? []).includes(entry.kind)) return [];
  const where = Object.entries(servedKinds)
    .filter(([, kinds]) => kinds.includes(entry.kind))
    .map(([name]) => name)
    .join(" or ");
  return [
    `models.${role}.provider: a ${type} provider does not serve ${entry.kind} roles (a provider of type ${where} does)`,
  ];
}

function checkReferences(config: AppConfig): string[] {
  const problems: string[] = [];
  const roles = config.models;
  const isRole = (name: string) => typeof roles[name] === "object";
  const exists = (name: string) => roles[name] !== undefined;
  for (const [name, entry] of Object.entries(roles)) {
    if (typeof entry === "string" && !isRole(entry)) {
      problems.push(`models.${name}: alias of '${entry}', which is not a model role defined in models`);
    }
    if (typeof entry === "object") problems.push(...providerProblems(config, name, entry));
  }
  const mustExist = (path: string, name: string) => {
    if (!exists(name)) problems.push(`${path}: '${name}' is not a model role or alias defined in models`);
  };
  const pre = config.routing.preRouting;
  mustExist("routing.preRouting.imageRole", pre.imageRole);
  mustExist("routing.preRouting.thinkingRole", pre.thinkingRole);
  mustExist("routing.preRouting.largeContextRole", pre.largeContextRole);
  mustExist("routing.categorizer.role", config.routing.categorizer.role);
  mustExist("routing.acknowledgementRole", config.routing.acknowledgementRole);
  mustExist("orchestration.plannerRole", config.orchestration.plannerRole);
  mustExist("orchestration.finishRole", config.orchestration.finishRole);
  mustExist("orchestration.failureRole", config.orchestration.failureRole);
  mustExist("monitoring.baselineRole", config.monitoring.baselineRole);
  if (config.monitoring.shadow.baselineRole !== undefined)
    mustExist("monitoring.shadow.baselineRole", config.monitoring.shadow.baselineRole);
  mustExist("monitoring.shadow.judgeRole", config.monitoring.shadow.judgeRole);
  const history = config.sessions.history;
  if (history.summarize && history.maxTokens > 0)
    mustExist("sessions.history.summarizerRole", history.summarizerRole);
  config.routing.warmup.roles.forEach((role, index) => {
    mustExist(`routing.warmup.roles.${index}`, role);
  });
  for (const [category, target] of Object.entries(config.routing.categories)) {
    if (target !== "orchestration") mustExist(`routing.categories.${category}`, target);
  }
  return problems;
}

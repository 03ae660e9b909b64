import { z } from "zod";

// Schema of orchestration_config.json. Every setting has a default, so a file only needs what it changes.
// Objects are strict: a misspelt key is an error naming it, not a silently ignored setting.

const roleName = z.string().regex(/^[a-z][a-z0-9_]*$/, "must be snake_case, like thinking_ai");

export const pricingSchema = z.strictObject({
  inputPerMillion: z.number().nonnegative(),
  outputPerMillion: z.number().nonnegative(),
  perImage: z.number().nonnegative().optional(),
  perVideoSecond: z.number().nonnegative().optional(),
  // Prompt-cache prices per million input tokens read from / written to the upstream's cache. Absent, the
  // upstream's model list gives them, or they are inputPerMillion times the stated default multipliers
  // (models/prompt-cache-pricing.ts).
  cacheReadPerMillion: z.number().nonnegative().optional(),
  cacheWritePerMillion: z.number().nonnegative().optional(),
});

// OpenRouter's unified `reasoning` parameter (https://openrouter.ai/docs/use-cases/reasoning-tokens): how much
// of the output a thinking model may spend on reasoning, by effort or as a token budget, and whether the
// reasoning text comes back. Reasoning tokens are billed as output whether or not they are returned.
export const reasoningEfforts = ["xhigh", "high", "medium", "low", "minimal", "none"] as const;
export const reasoningSchema = z
  .strictObject({
    effort: z.enum(reasoningEfforts).optional(),
    maxTokens: z.number().int().positive().optional(),
    exclude: z.boolean().default(true),
  })
  .refine((r) => r.effort === undefined || r.maxTokens === undefined, "set effort or maxTokens, not both");

// One place a role's model runs: a model id on a configured provider, chosen by weight among the role's
// deployments. Price, context window and output limit default to the role's.
export const deploymentSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  weight: z.number().positive().default(1),
  pricing: pricingSchema.optional(),
  contextWindow: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
});

const roleFields = z.strictObject({
  // A name under `providers`: openrouter, google_ai, openai, anthropic or one the config adds.
  provider: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, "must be a provider name under providers, like openrouter or local")
    .default("openrouter"),
  kind: z.enum(["chat", "image", "video", "embedding"]).default("chat"),
  model: z.string().min(1),
  description: z.string().default(""),
  contextWindow: z.number().int().positive().default(131072),
  maxOutputTokens: z.number().int().positive().default(4096),
  temperature: z.number().min(0).max(2).optional(),
  // Thinking models only; the answer keeps maxOutputTokens of room on top of what reasoning may use.
  reasoning: reasoningSchema.optional(),
  pricing: pricingSchema,
  fallbacks: z.array(z.string().min(1)).default([]),
  // Where the role's calls go, spread by weight; the fallbacks (on the role's provider) come after all of them.
  // Without it, `model` on `provider` is the role's one deployment.
  deployments: z.array(deploymentSchema).min(1).optional(),
});

// A role with deployments may leave out `model`, `provider` and `pricing`: its first deployment's are the
// role's own (the model the role is known by and falls back from).
export const modelRoleSchema = z.preprocess(
  (input) => {
    if (typeof input !== "object" || input === null || !("deployments" in input)) return input;
    const role = input as Record<string, unknown>;
    const [first] = Array.isArray(role.deployments) ? role.deployments : [];
    if (typeof first !== "object" || first === null || role.model !== undefined) return input;
    const { provider, model, pricing } = first as Record<string, unknown>;
    return { ...role, provider: role.provider ?? provider, model, pricing: role.pricing ?? pricing };
  },
  roleFields.superRefine((role, context) => {
    if (role.deployments && role.kind !== "chat") {
      context.addIssue({
        code: "custom",
        path: ["deployments"],
        message: `only chat roles have deployments; a ${role.kind} role runs on its own provider and model`,
      });
      return;
    }
    const own = role.deployments?.some((d) => d.provider === role.provider && d.model === role.model);
    if (role.deployments && !own) {
      context.addIssue({
        code: "custom",
        path: ["model"],
        message: `${role.provider} model ${role.model} is not one of the role's deployments; leave model and provider out, or list them among the deployments`,
      });
    }
  }),
);

// An entry is either a role definition or the name of another role (an alias such as research_ai).
export const modelsSchema = z.record(
  roleName,
  z.union([modelRoleSchema, roleName], {
    error: "must be a role definition (an object) or the name of another role",
  }),
);

const logLevel = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(["trace", "debug", "info", "warning", "warn", "error", "critical", "fatal", "silent"]))
  .transform((value) => {
    if (value === "warning") return "warn";
    if (value === "critical") return "fatal";
    return value;
  });

export const systemSchema = z.strictObject({
  name: z.string().default("Master AI Orchestration System"),
  environment: z.string().default("production"),
  logLevel: logLevel.prefault("INFO"),
  host: z.string().default("0.0.0.0"),
  port: z.number().int().min(0).max(65535).default(8000),
  dataDir: z.string().default("./data"),
  databaseUrl: z.string().optional(),
  // Set: workflows run on BullMQ workers and replicas share circuit breakers, rate limits and the cache.
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  // How deep a request body may nest arrays and objects. Deeper bodies are refused at the edge: walking
  // or serialising them later could overflow the stack.
  maxJsonDepth: z.number().int().min(8).max(512).default(64),
  // The service's public address (https://gateway.example.com, or with a base path), used for the URLs it
  // hands out, such as generated images'. Unset, those URLs are relative: a request's Host header is the
  // client's to choose, so it never decides them.
  publicUrl: z
    .string()
    .regex(
      /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
      "must be an absolute http(s) URL such as https://gateway.example.com",
    )
    .refine(
      (value) => URL.canParse(value),
      "must be an absolute http(s) URL such as https://gateway.example.com",
    )
    .transform((value) => value.replace(/\/+$/, ""))
    .optional(),
  // How long a client may take, so slow or stalled peers cannot hold sockets forever. A request's headers
  // must arrive within headersMs and the whole request (body included) within bodyMs; an idle kept-alive
  // socket is closed after keepAliveMs; a socket with no traffic at all, even mid-answer, after
  // connectionMs (0, off: a synchronous workflow request may wait in silence for minutes).
  timeouts: z
    .strictObject({
      connectionMs: z.number().int().min(0).default(0),
      headersMs: z.number().int().positive().default(20_000),
      bodyMs: z.number().int().positive().default(30_000),
      keepAliveMs: z.number().int().positive().default(72_000),
    })
    .prefault({})
    .refine((t) => t.headersMs <= t.bodyMs, "headersMs must not exceed bodyMs"),
  // Behind a reverse proxy (Railway, a load balancer): which proxies' X-Forwarded-For to believe for the
  // client address that open-mode limits count by. false: none (the socket's address); true: any (only when
  // nothing reaches the service except through the proxy); a string: comma-separated proxy addresses or CIDRs.
  trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
  // Origins whose browser pages may call the API: "*" for any, exact origins such as
  // "https://app.example.com", or none (an empty list) to send no CORS headers.
  corsOrigins: z
    .array(
      z
        .string()
        .regex(/^(\*|https?:\/\/[^/\s]+)$/, 'must be "*" or an origin such as https://app.example.com'),
    )
    .default(["*"]),
});

export const orchestrationSchema = z.strictObject({
  maxConcurrentWorkflows: z.number().int().positive().default(1000),
  defaultTimeoutSeconds: z.number().positive().default(300),
  maxRetries: z.number().int().min(0).max(10).default(3),
  // H requests: who plans the workflow, who writes the final answer, who explains a failure.
  plannerRole: roleName.default("thinking_ai"),
  finishRole: roleName.default("finished_task_ai"),
  failureRole: roleName.default("workers_failed_ai"),
  // The longest prompt a workflow task may send once its variables are filled in. Checked when a workflow
  // is submitted (with earlier outputs at their max output tokens) and again before each task runs.
  maxPromptChars: z.number().int().positive().default(2_000_000),
  // What the planner may write for an H request: at most this many tasks (its prompt says so too).
  planner: z.strictObject({ maxTasks: z.number().int().min(1).max(200).default(12) }).prefault({}),
  // A workflow whose estimated cost passes this (USD) is refused before any call; 0 turns it off.
  maxRunCostUsd: z.number().min(0).default(10),
  // On SIGTERM, how long running background work may take to finish before it is stopped (and left for
  // the next process to resume).
  shutdownGraceSeconds: z.number().min(0).default(30),
  // Runs whose process was lost (a crash) are resumed by the next process that starts or sweeps, once;
  // off, they are marked interrupted and wait for POST /workflow/{id}/resume.
  resumeOnStart: z.boolean().default(true),
  // A running run's lease: renewed every third of it by the process driving it. A run whose lease expired
  // lost its process and is taken over; shorter recovers sooner, longer tolerates longer stalls.
  runLeaseMs: z.number().int().min(100).max(600_000).default(10_000),
  // A run recovered this many times is failed instead (workflow_lost): it may be what kills its processes.
  maxRecoveries: z.number().int().min(0).max(100).default(3),
});

export const queuingSchema = z
  .strictObject({
    highPriorityRatio: z.number().min(0).max(1).default(0.6),
    mediumPriorityRatio: z.number().min(0).max(1).default(0.3),
    lowPriorityRatio: z.number().min(0).max(1).default(0.1),
    // Upstream calls in flight at once to one model; past it, that model's calls wait and are served by
    // priority class. The default is above what one process drives, so it bounds rather than throttles.
    maxConcurrentCallsPerModel: z.number().int().positive().default(1024),
    // A lower (or higher) limit for particular model ids.
    models: z.record(z.string().min(1), z.number().int().positive()).default({}),
  })
  .refine(
    (q) => Math.abs(q.highPriorityRatio + q.mediumPriorityRatio + q.lowPriorityRatio - 1) < 1e-6,
    "highPriorityRatio + mediumPriorityRatio + lowPriorityRatio must add up to 1",
  );

export const apiKeysSchema = z.strictObject({
  openrouter: z.string().default(""),
  // Gemini API key (GEMINI_API_KEY or GOOGLE_AI_API_KEY): chat on Gemini, images and videos.
  google_ai: z.string().default(""),
  // Keys clients must present to use this service; empty means open access (local use).
  clients: z.array(z.string().min(16, "client API keys must be at least 16 characters")).default([]),
});

// The wire protocols the service speaks to an upstream; each has its own folder under src/providers.
export const providerTypes = ["openrouter", "openai", "anthropic", "google"] as const;
export type ProviderType = (typeof providerTypes)[number];

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name such as OPENAI_API_KEY");
const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name");

// One upstream as data: its protocol, where it is, and where its key comes from. No apiKeyEnv: no key and
// no authorization header (a local server such as Ollama, vLLM, llama.cpp or LM Studio).
const providerFields = {
  type: z.enum(providerTypes),
  baseUrl: z.url(),
  // The environment variable holding the key, read into apiKey when the configuration loads.
  apiKeyEnv: envName.optional(),
  // The key itself; better left to apiKeyEnv, so it stays out of the file.
  apiKey: z.string().default(""),
  // Sent with every request (an organisation id, an Azure api-version header, a gateway's own header).
  headers: z.record(headerName, z.string()).default({}),
};

export const providerEntry = z.strictObject(providerFields);

// A provider the service knows by name, every field defaulted.
function builtInProvider(type: ProviderType, baseUrl: string, apiKeyEnv: string) {
  return z
    .strictObject({
      ...providerFields,
      type: providerFields.type.default(type),
      baseUrl: providerFields.baseUrl.default(baseUrl),
      apiKeyEnv: envName.default(apiKeyEnv),
    })
    .prefault({});
}

export type ProviderEntryConfig = z.output<typeof providerEntry>;

export const providersSchema = z
  .object({
    openrouter: z
      .strictObject({
        baseUrl: z.url().default("https://openrouter.ai/api/v1"),
        // Sent as HTTP-Referer and X-OpenRouter-Title so calls show up under this app in OpenRouter's
        // dashboard; no URL is sent unless one is set (a made-up address would credit someone else).
        appUrl: z.string().default(""),
        // How often the upstream's model list (prices, context windows, retirements) is read again; 0: at
        // start-up only.
        catalogRefreshMinutes: z.number().min(0).default(60),
        appName: z.string().default("Master AI Orchestration System"),
      })
      .prefault({}),
    google_ai: z
      .strictObject({
        baseUrl: z.url().default("https://generativelanguage.googleapis.com/v1beta"),
        // How often a running video generation (a long-running operation) is polled.
        pollIntervalMs: z.number().int().positive().default(5000),
        // How images are asked for: Gemini's native image models through generateContent, Imagen (still on
        // Vertex AI) through :predict; auto picks :predict for imagen-* ids.
        imageMode: z.enum(["auto", "generateContent", "predict"]).default("auto"),
        // Length of each generated video (Veo 3.1 makes 4, 6 or 8 seconds).
        videoSeconds: z.union([z.literal(4), z.literal(6), z.literal(8)]).default(8),
      })
      .prefault({}),
    // OpenAI's own API; OPENAI_BASE_URL points it elsewhere (Azure OpenAI, a gateway), as OpenAI's SDKs do.
    openai: builtInProvider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    // Anthropic's Messages API; ANTHROPIC_BASE_URL (without /v1, as Anthropic's SDKs take it) points it elsewhere.
    anthropic: builtInProvider("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
  })
  // Any other name is a provider the config adds: `{"type": "openai", "baseUrl": "http://127.0.0.1:11434/v1"}`.
  .catchall(providerEntry)
  .superRefine((providers, ctx) => {
    for (const name of Object.keys(providers)) {
      if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: "provider names are lower case, like local" });
      }
      if (name === "simulated") {
        ctx.addIssue({ code: "custom", path: [name], message: "'simulated' is the offline provider's name" });
      }
    }
  });

const routeTarget = z.union([z.literal("orchestration"), roleName]);
const categoryName = z.enum(["L", "M", "H"]);

// Following the ladder from any category must end, not come back round.
function ladderHasNoCycle(ladder: Partial<Record<"L" | "M" | "H", "L" | "M" | "H">>): boolean {
  for (const start of ["L", "M", "H"] as const) {
    const seen = new Set<string>([start]);
    for (let at = ladder[start]; at !== undefined; at = ladder[at]) {
      if (seen.has(at)) return false;
      seen.add(at);
    }
  }
  return true;
}

export const routingSchema = z.strictObject({
  preRouting: z
    .strictObject({
      imageRole: roleName.default("image_analysis_ai"),
      thinkingContextTokens: z.number().int().positive().default(100_000),
      thinkingRole: roleName.default("thinking_ai"),
      largeContextTokens: z.number().int().positive().default(200_000),
      largeContextRole: roleName.default("image_analysis_ai"),
      maxContextTokens: z.number().int().positive().default(900_000),
    })
    .prefault({})
    .refine(
      (p) => p.thinkingContextTokens < p.largeContextTokens && p.largeContextTokens < p.maxContextTokens,
      "thresholds must grow: thinkingContextTokens < largeContextTokens < maxContextTokens",
    ),
  categories: z
    .strictObject({
      L: routeTarget.default("thinking_ai"),
      M: routeTarget.default("medium_ai"),
      H: routeTarget.default("orchestration"),
    })
    .prefault({}),
  categorizer: z
    .strictObject({
      role: roleName.default("categorizer_ai"),
      // How many earlier turns the categorizer sees; it needs the gist, not the whole history.
      historyMessages: z.number().int().min(0).max(20).default(2),
      // How long the categorizer may take, retries included; past it the local rule decides.
      timeoutMs: z.number().int().positive().default(8000),
    })
    .prefault({}),
  acknowledgementRole: roleName.default("fast_ai"),
  // An unusable answer (empty, cut off, a refusal, not the JSON asked for) is answered again by the next
  // category up its ladder (`ladder`: category → the stronger category; M → L by default) before the
  // response returns. The same ladder is what constraints and judged quality climb.
  escalation: z
    .strictObject({
      enabled: z.boolean().default(true),
      ladder: z
        .strictObject({ L: categoryName.optional(), M: categoryName.optional(), H: categoryName.optional() })
        .default({ M: "L" })
        .refine(ladderHasNoCycle, "the ladder must not lead back to a category it left"),
    })
    .prefault({}),
  // While the categorizer runs, the call the likely route (`category`'s) would make starts alongside it; the
  // label confirms it (its answer is used) or refutes it (it is aborted, and its cost is recorded as waste).
  speculate: z
    .strictObject({ enabled: z.boolean().default(true), category: categoryName.default("M") })
    .prefault({}),
  // Recent labels, so a repeated question makes no categorizer call; per client with client keys.
  memo: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
      maxMegabytes: z.number().positive().max(1024).default(8),
      ttlSeconds: z
        .number()
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(600),
    })
    .prefault({}),
  // Judged quality feeds the route (with shadow sampling on): a category whose "as good or better" share has
  // at least `minSamples` verdicts within `windowHours` and whose 95% interval lies wholly below `minShare`
  // steps up its ladder until the figure recovers.
  quality: z
    .strictObject({
      enabled: z.boolean().default(true),
      minSamples: z.number().int().min(1).default(30),
      minShare: z.number().min(0).max(1).default(0.8),
      windowHours: z
        .number()
        .positive()
        .max(24 * 90)
        .default(24),
    })
    .prefault({}),
  warmup: z
    .strictObject({
      enabled: z.boolean().default(true),
      roles: z.array(roleName).default(["categorizer_ai", "fast_ai"]),
      prompt: z.string().min(1).default("Warm-up: reply with the single word READY."),
    })
    .prefault({}),
});

export const addonSchema = z.strictObject({
  category: z.string().min(1),
  description: z.string().min(1),
  prompt: z.string().min(1),
});

export const templateSchema = z.strictObject({
  description: z.string().min(1),
  variables: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
        description: z.string().default(""),
        required: z.boolean().default(true),
        default: z.string().optional(),
      }),
    )
    .default([]),
  // Checked like any workflow when the server starts: roles, addons and variables must all exist.
  workflow: z.array(z.unknown()).min(1),
});

export const errorHandlingSchema = z.strictObject({
  // Upper bound on one upstream call, so a hung upstream becomes an error instead of a hang.
  requestTimeoutMs: z.number().int().positive().default(120_000),
  // Upper bound on one model call as the caller sees it: every retry, wait and fallback included.
  callDeadlineMs: z.number().int().positive().default(300_000),
  retry: z
    .strictObject({
      baseDelayMs: z.number().int().positive().default(1000),
      maxDelayMs: z.number().int().positive().default(30_000),
      // Total tries per error kind, the first call included. Persistent, logical and fatal errors are never retried.
      maxAttempts: z
        .strictObject({
          transient: z.number().int().min(1).max(10).default(5),
          resource: z.number().int().min(1).max(10).default(3),
        })
        .prefault({}),
    })
    .prefault({})
    .refine((r) => r.baseDelayMs <= r.maxDelayMs, "baseDelayMs must not exceed maxDelayMs"),
  circuitBreaker: z
    .strictObject({
      failureThreshold: z.number().int().positive().default(5),
      timeoutSeconds: z.number().positive().default(60),
    })
    .prefault({}),
});

const rateLimit = z.strictObject({
  requestsPerMinute: z.number().int().min(0).default(0),
  tokensPerMinute: z.number().int().min(0).default(0),
});

export const rateLimitsSchema = z.strictObject({
  // Per API client (by API key, else by address); 0 turns it off.
  clients: z.strictObject({ requestsPerMinute: z.number().int().min(0).default(600) }).prefault({}),
  // Toward each upstream model id; 0 means unlimited. `models` overrides `default` for one model id.
  upstream: z
    .strictObject({
      default: rateLimit.prefault({}),
      models: z.record(z.string().min(1), rateLimit).default({}),
    })
    .prefault({}),
});

// Answers to identical requests, kept for a while: same model, messages and parameters, and either
// temperature 0 or a client that asks for caching.
export const cacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  ttlSeconds: z.number().positive().default(3600),
  maxEntries: z.number().int().positive().default(10_000),
  maxMegabytes: z.number().positive().default(64),
});

// Stored responses (/v1/responses with store), kept in memory for previous_response_id. Each client key has
// its own quota, so one client storing a lot evicts only its own (open mode is one client).
export const responsesSchema = z.strictObject({
  maxMegabytesPerClient: z.number().positive().default(32),
  maxStoredPerClient: z.number().int().positive().default(1_000),
});

// Spending caps in USD; 0 turns a cap off. Past a cap, paid calls are refused with HTTP 402.
export const budgetsSchema = z.strictObject({
  perSessionUsd: z.number().min(0).default(0),
  perDayUsd: z.number().min(0).default(0),
  // Per API client key (api_keys.clients) per UTC day; open mode has no clients to tell apart.
  perClientUsd: z.number().min(0).default(0),
  // What a call to a model id with no known price (a pass-through id neither the config nor the upstream's
  // model list names) is reserved at: a conservative list price, and the answer's length when the client
  // sets no max_tokens. Its reservation is never $0.
  unknownModel: z
    .strictObject({
      inputPerMillion: z.number().min(0).default(15),
      outputPerMillion: z.number().min(0).default(75),
      maxOutputTokens: z.number().int().positive().default(32_768),
    })
    .prefault({}),
});

// The quality figure: a share of the requests routed to a cheaper role is answered again by the baseline in the
// background, and a judge compares the two answers.
export const shadowSchema = z.strictObject({
  // Share of eligible requests sampled, 0 to 1; 0 turns sampling off.
  sampleRate: z.number().min(0).max(1).default(0),
  // Who gives the baseline answer; by default monitoring.baselineRole, what the savings are measured against.
  baselineRole: roleName.optional(),
  judgeRole: roleName.default("thinking_ai"),
  // Spending cap of shadow calls per UTC day, in USD; once spent, sampling pauses until the next day.
  maxDailyUsd: z.number().positive().default(1),
  // Sampled pairs being answered and judged at once; a sample beyond it is skipped, never queued.
  maxConcurrent: z.number().int().positive().default(4),
});

// OpenTelemetry traces, off unless an endpoint is set (here or with the standard OTEL_EXPORTER_OTLP_* variables).
export const otelSchema = z.strictObject({
  // The collector's base URL (/v1/traces is appended), as OTEL_EXPORTER_OTLP_ENDPOINT.
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  // The full traces URL, used as it is, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; wins over endpoint.
  tracesEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  // Sent with every export (an API key, say); treated as secrets.
  headers: z.record(z.string().min(1), z.string()).default({}),
  protocol: z.enum(["http/protobuf", "http/json"]).default("http/protobuf"),
  serviceName: z.string().min(1).default("master-ai-orchestrator"),
  // Share of traces kept, decided where a trace starts; a client's sampled traceparent is always followed.
  sampleRatio: z.number().min(0).max(1).default(1),
  // Record prompts and answers (gen_ai.input.messages, gen_ai.output.messages), clipped and scrubbed.
  captureContent: z.boolean().default(false),
  // Spans waiting for export; past it new spans are dropped (and counted), never waited for.
  maxQueueSize: z.number().int().min(1).max(100_000).default(2048),
  // Turns tracing off while an endpoint is set (OTEL_SDK_DISABLED=true).
  enabled: z.boolean().default(true),
});

export const monitoringSchema = z.strictObject({
  // The savings figure compares actual cost with sending the same traffic to this role.
  baselineRole: roleName.default("thinking_ai"),
  // GET /metrics in Prometheus text format.
  metricsEnabled: z.boolean().default(true),
  // Model ids a client names directly that get their own circuit breaker, rate-limit window and /stats and
  // /metrics entries (once they have answered); the rest share the label "other".
  maxTrackedModels: z.number().int().min(0).max(10_000).default(100),
  // Ledger and request-log rows are written in batches, at most this long after the first row (ms), or
  // sooner when 500 are queued; a graceful stop writes whatever is queued.
  writeBatchMs: z.number().int().min(1).max(60_000).default(200),
  shadow: shadowSchema.prefault({}),
  otel: otelSchema.prefault({}),
});

// Conversations (POST /chat with a session): what each turn sends of the history, and how long sessions are kept.
export const sessionsSchema = z.strictObject({
  history: z
    .strictObject({
      // The verbatim window of recent turns sent to the model, in tokens; 0 sends the whole history that
      // fits the model's context window (no summary).
      maxTokens: z.number().int().min(0).default(16_000),
      // Turns leaving the window are folded into a rolling summary, sent before the window; off, they are
      // dropped.
      summarize: z.boolean().default(true),
      summarizerRole: roleName.default("summarizer_ai"),
      // The summary's length limit (the summarizer's max_tokens).
      summaryMaxTokens: z.number().int().min(64).max(8_192).default(1_024),
    })
    .prefault({}),
  // Sessions idle this many days are deleted with their messages and summary; 0 keeps them forever.
  ttlDays: z.number().min(0).default(30),
  // How often each instance looks for expired sessions.
  sweepIntervalMinutes: z.number().positive().default(60),
});

// Distributed execution (with system.redisUrl): the workflow queue and its workers.
export const clusterSchema = z.strictObject({
  queueName: z
    .string()
    .regex(/^[\w-]+$/)
    .default("workflows"),
  // Prefix of every Redis key the service writes, so several deployments can share one Redis.
  keyPrefix: z
    .string()
    .regex(/^[\w-]+$/)
    .default("orchestrator"),
  // Jobs (tasks and run steps) one worker process runs at the same time.
  workerConcurrency: z.number().int().positive().default(16),
  // A worker renews the locks of its jobs every half lockDurationMs, on a timer, however long the job's
  // upstream call takes. A worker that stops renewing (killed) is found by the stall check, which every
  // worker runs each stalledIntervalMs: its job goes to another worker after at most lockDurationMs plus
  // stalledIntervalMs. Shorter recovers sooner; but a live worker whose event loop or Redis connection
  // stalls for longer than lockDurationMs also loses its job, which then runs twice (a long video call paid
  // twice). The defaults recover within 6.5 s and tolerate stalls of 5 s.
  lockDurationMs: z.number().int().min(1000).default(5_000),
  stalledIntervalMs: z.number().int().min(500).default(1_500),
  // A job whose worker was lost more often than this is failed instead of run again (its run then fails).
  maxStalledCount: z.number().int().min(0).default(2),
});

export const configSchema = z.strictObject({
  system: systemSchema.prefault({}),
  orchestration: orchestrationSchema.prefault({}),
  queuing: queuingSchema.prefault({}),
  api_keys: apiKeysSchema.prefault({}),
  providers: providersSchema.prefault({}),
  models: modelsSchema,
  routing: routingSchema.prefault({}),
  addons: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "addon names are snake_case"), addonSchema)
    .default({}),
  templates: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "template names are snake_case"), templateSchema)
    .default({}),
  errorHandling: errorHandlingSchema.prefault({}),
  rateLimits: rateLimitsSchema.prefault({}),
  cache: cacheSchema.prefault({}),
  responses: responsesSchema.prefault({}),
  budgets: budgetsSchema.prefault({}),
  sessions: sessionsSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
  cluster: clusterSchema.prefault({}),
});

export type ParsedConfig = z.output<typeof configSchema>;
export type ModelRoleDefinition = z.output<typeof modelRoleSchema>;
export type AddonDefinition = z.output<typeof addonSchema>;
export type RoutingConfig = ParsedConfig["routing"];
export type RouteTarget = z.output<typeof routeTarget>;
export type TemplateDefinition = z.output<typeof templateSchema>;

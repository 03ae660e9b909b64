// The spec's model roles with OpenRouter's list prices (USD per million tokens) as defaults.
// A config file may override any field of any role, or add roles and aliases.
export const defaultModels = {
  categorizer_ai: {
    provider: "openrouter",
    model: "meta-llama/llama-3.1-8b-instruct",
    description: "Classifies each request as L, M or H complexity",
    contextWindow: 131072,
    maxOutputTokens: 32,
    pricing: { inputPerMillion: 0.02, outputPerMillion: 0.03 },
    fallbacks: ["meta-llama/llama-3.2-3b-instruct"],
  },
  fast_ai: {
    provider: "openrouter",
    model: "openai/gpt-oss-safeguard-20b",
    description: "Simple to medium queries and the immediate acknowledgement of complex tasks",
    contextWindow: 131072,
    maxOutputTokens: 1024,
    pricing: { inputPerMillion: 0.075, outputPerMillion: 0.3 },
    fallbacks: ["openai/gpt-oss-20b"],
  },
  medium_ai: {
    provider: "openrouter",
    model: "meta-llama/llama-3.3-70b-instruct",
    description: "More difficult queries",
    contextWindow: 131072,
    maxOutputTokens: 4096,
    pricing: { inputPerMillion: 0.1, outputPerMillion: 0.32 },
    fallbacks: ["meta-llama/llama-3.1-70b-instruct"],
  },
  // The seed's moonshotai/kimi-k2-thinking (and its fallback kimi-k2-0905) left Moonshot's lineup in 2026;
  // Kimi K2.6 is the K2 family's current thinking model. It reasons by default, so it gets a reasoning
  // budget on top of its answer's room (see README, "Default models").
  thinking_ai: {
    provider: "openrouter",
    model: "moonshotai/kimi-k2.6",
    description: "Complex tasks, hard questions and orchestration",
    contextWindow: 262144,
    maxOutputTokens: 16384,
    reasoning: { effort: "medium", exclude: true },
    pricing: { inputPerMillion: 0.684, outputPerMillion: 3.42 },
    fallbacks: ["moonshotai/kimi-k2.5"],
  },
  code_ai: {
    provider: "openrouter",
    model: "moonshotai/kimi-k2.6",
    description: "Programming and code generation",
    contextWindow: 262144,
    maxOutputTokens: 16384,
    reasoning: { effort: "medium", exclude: true },
    pricing: { inputPerMillion: 0.684, outputPerMillion: 3.42 },
    fallbacks: ["moonshotai/kimi-k2.5"],
  },
  // google/gemini-2.5-pro shuts down on the Gemini API on 2026-12-01; Google names gemini-3.8-flash as its
  // replacement (1M-token context, images in).
  image_analysis_ai: {
    provider: "openrouter",
    model: "google/gemini-3.8-flash",
    description: "Visual content evaluation and very large contexts",
    contextWindow: 1048576,
    maxOutputTokens: 8192,
    pricing: { inputPerMillion: 0.75, outputPerMillion: 3.75 },
    fallbacks: ["google/gemini-3.7-flash"],
  },
  // Imagen 4 was shut down on the Gemini API in August 2026; Gemini's native image model Nano Banana 2.1
  // (October 2026) is the current one, through generateContent. $0.0336 per 1K image.
  image_generation_ai: {
    provider: "google_ai",
    kind: "image",
    model: "gemini-nano-banana-2.1",
    description: "Nano Banana 2.1: Gemini's native image generation",
    pricing: { inputPerMillion: 0, outputPerMillion: 0, perImage: 0.0336 },
  },
  // veo-3.1-generate-preview was retired in October 2026; veo-3.1-generate-001 is the GA id. $0.40 a second.
  video_generation_ai: {
    provider: "google_ai",
    kind: "video",
    model: "veo-3.1-generate-001",
    description: "Veo 3.1: video generation",
    pricing: { inputPerMillion: 0, outputPerMillion: 0, perVideoSecond: 0.4 },
  },
  embedding_ai: {
    provider: "openrouter",
    kind: "embedding",
    model: "openai/text-embedding-3-small",
    description: "Text embeddings for POST /v1/embeddings",
    contextWindow: 8192,
    maxOutputTokens: 1,
    pricing: { inputPerMillion: 0.02, outputPerMillion: 0 },
  },
  research_ai: "thinking_ai",
  product_ai: "medium_ai",
  master_ai: "thinking_ai",
  fast_response_ai: "fast_ai",
  finished_task_ai: "thinking_ai",
  workers_failed_ai: "fast_ai",
  summarizer_ai: "fast_ai",
} as const;

// OpenRouter list prices (USD per million tokens) of the default fallbacks, so a fallback's answer is
// priced at its own rate when the upstream does not report the cost.
export const fallbackPrices: Readonly<
  Record<string, { readonly inputPerMillion: number; readonly outputPerMillion: number }>
> = {
  "meta-llama/llama-3.2-3b-instruct": { inputPerMillion: 0.02, outputPerMillion: 0.02 },
  "openai/gpt-oss-20b": { inputPerMillion: 0.03, outputPerMillion: 0.14 },
  "meta-llama/llama-3.1-70b-instruct": { inputPerMillion: 0.4, outputPerMillion: 0.4 },
  "moonshotai/kimi-k2.5": { inputPerMillion: 0.41, outputPerMillion: 2.06 },
  "google/gemini-3.7-flash": { inputPerMillion: 0.75, outputPerMillion: 3.75 },
};

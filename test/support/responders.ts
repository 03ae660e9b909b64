import type { FakeReply, FakeResponder, RecordedRequest } from "../fakes/fake-openrouter.ts";

export const models = {
  categorizer: "meta-llama/llama-3.1-8b-instruct",
  categorizerFallback: "meta-llama/llama-3.2-3b-instruct",
  fast: "openai/gpt-oss-safeguard-20b",
  medium: "meta-llama/llama-3.3-70b-instruct",
  thinking: "moonshotai/kimi-k2-thinking",
  gemini: "google/gemini-2.5-pro",
} as const;

export function lastUserText(request: RecordedRequest): string {
  const last = [...request.body.messages].reverse().find((m) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  return (last.content as Array<{ type: string; text?: string }>)
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n");
}

// Answers like the real models would for routing purposes: the categorizer with a label,
// everyone else with a text that names the model, so tests can see who answered.
export function routingResponder(
  categorizerAnswer: string | ((request: RecordedRequest) => string),
): FakeResponder {
  return (request): FakeReply => {
    if (request.body.model === models.categorizer) {
      const content = typeof categorizerAnswer === "string" ? categorizerAnswer : categorizerAnswer(request);
      return { kind: "text", content, promptTokens: 50, completionTokens: 1, cost: 0.000001 };
    }
    return {
      kind: "text",
      content: `answer from ${request.body.model} to: ${lastUserText(request).slice(0, 60)}`,
      promptTokens: 100,
      completionTokens: 20,
      cost: 0.0002,
    };
  };
}

export function requestsTo(requests: readonly RecordedRequest[], model: string): RecordedRequest[] {
  return requests.filter((r) => r.body.model === model);
}

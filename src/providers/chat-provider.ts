// The one model interface every provider implements; the rest of the service knows only this.

export type ContentPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly url: string };

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string | readonly ContentPart[];
}

// Why a call is made. Real providers ignore it; the simulated provider answers by it.
export type CallPurpose = "categorize" | "acknowledge" | "answer" | "plan" | "warmup";

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly purpose?: CallPurpose;
}

export interface ChatUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  // What the upstream says the call cost, when it says so (OpenRouter does).
  readonly reportedCostUsd?: number;
}

export interface ChatResult {
  readonly content: string;
  readonly model: string;
  readonly finishReason: string;
  readonly usage: ChatUsage;
}

export type ChatStreamEvent =
  | { readonly type: "delta"; readonly text: string }
  | { readonly type: "done"; readonly result: ChatResult };

export type ProviderName = "openrouter" | "google_ai" | "simulated";

export interface ChatProvider {
  readonly name: ProviderName;
  complete(request: ChatRequest): Promise<ChatResult>;
  stream(request: ChatRequest): AsyncIterable<ChatStreamEvent>;
}

export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: "text" }> => part.type === "text")
    .map((part) => part.text)
    .join("\n");
}

import { OrchestratorError } from "../../core/errors.ts";
import type { ChatProvider, ChatRequest, ChatResult, ChatStreamEvent } from "../chat-provider.ts";
import type { EmbeddingsProvider, EmbeddingsRequest, EmbeddingsResult } from "../embeddings-provider.ts";
import type { MediaProvider, MediaRequest, MediaResult } from "../media-provider.ts";
import { UpstreamHttp } from "../upstream-http.ts";
import type { OpenRouterConnection } from "./openrouter-call.ts";
import { completeChat, streamChat } from "./openrouter-chat.ts";
import { embedTexts } from "./openrouter-embeddings.ts";
import { generateImage } from "./openrouter-images.ts";

export interface OpenRouterProviderOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly appUrl?: string;
  readonly appName?: string;
  readonly defaultTimeoutMs: number;
}

// OpenRouter's whole list is a few hundred kilobytes; anything near this is not a model list.
export const maxModelListBytes = 16 * 1024 * 1024;

// OpenRouter speaks OpenAI's chat-completions dialect (https://openrouter.ai/docs/api-reference/overview);
// any OpenAI-compatible server (Ollama, vLLM, ...) can stand in through the base URL. The wire work is a
// shared keep-alive pool to the upstream's origin (see upstream-http.ts), not a client SDK: this sits on
// every call, so it must cost next to nothing. The wire mapping lives beside it (wire-*.ts), one module
// per kind of call (chat, embeddings, images).
export class OpenRouterProvider implements ChatProvider, EmbeddingsProvider, MediaProvider {
  readonly name = "openrouter" as const;
  readonly #connection: OpenRouterConnection;

  constructor(options: OpenRouterProviderOptions) {
    this.#connection = {
      defaultTimeoutMs: options.defaultTimeoutMs,
      http: new UpstreamHttp({
        baseUrl: options.baseUrl,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          // App attribution (https://openrouter.ai/docs/app-attribution): X-OpenRouter-Title replaces X-Title.
          ...(options.appUrl ? { "http-referer": options.appUrl } : {}),
          ...(options.appName ? { "x-openrouter-title": options.appName } : {}),
        },
      }),
    };
  }

  complete(request: ChatRequest): Promise<ChatResult> {
    return completeChat(this.#connection, request);
  }

  stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    return streamChat(this.#connection, request);
  }

  embed(request: EmbeddingsRequest): Promise<EmbeddingsResult> {
    return embedTexts(this.#connection, request);
  }

  // GET /models: every model the upstream serves, with prices, context windows and retirement dates
  // (https://openrouter.ai/docs/api-reference/list-available-models).
  // The list is an input like any other: past maxModelListBytes it is dropped unread, never held whole.
  listModels(signal: AbortSignal): Promise<unknown> {
    return this.#connection.http.getJson("/models", signal, maxModelListBytes);
  }

  image(request: MediaRequest): Promise<MediaResult> {
    return generateImage(this.#connection, request);
  }

  // Videos are Google AI's (Veo): the registry never sends a video role here.
  async video(request: MediaRequest): Promise<MediaResult> {
    throw new OrchestratorError({
      kind: "persistent",
      code: "provider_not_configured",
      status: 502,
      model: request.model,
      message: `openrouter does not generate videos (${request.model}); video roles run on google_ai`,
    });
  }
}

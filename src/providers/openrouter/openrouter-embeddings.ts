import type { EmbeddingsRequest, EmbeddingsResult } from "../embeddings-provider.ts";
import { type OpenRouterConnection, withDeadline } from "./openrouter-call.ts";
import { bodyError, malformed } from "./wire-errors.ts";

interface WireEmbeddings {
  readonly data?: ReadonlyArray<{ readonly index: number; readonly embedding: number[] }>;
  readonly model?: string;
  readonly usage?: { readonly prompt_tokens?: number; readonly cost?: unknown };
  readonly error?: unknown;
}

// OpenRouter's embeddings endpoint speaks OpenAI's format too
// (https://openrouter.ai/docs/api-reference/embeddings). Vectors are asked for as floats; the API route
// encodes them as base64 itself when its client asks for that.
export function embedTexts(
  connection: OpenRouterConnection,
  request: EmbeddingsRequest,
): Promise<EmbeddingsResult> {
  return withDeadline(connection, request, async (signal) => {
    const response = (await connection.http.postJson(
      "/embeddings",
      {
        model: request.model,
        input: [...request.input],
        encoding_format: "float",
        ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
        ...(request.user === undefined ? {} : { user: request.user }),
      },
      signal,
    )) as WireEmbeddings;
    if (response?.error) throw bodyError(response.error, request.model);
    const data = Array.isArray(response?.data) ? response.data : [];
    const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.length !== request.input.length || !vectors.every(Array.isArray)) {
      throw malformed(
        request.model,
        `${vectors.length} embeddings came back for ${request.input.length} inputs`,
      );
    }
    const cost = response.usage?.cost;
    return {
      vectors,
      model: response.model || request.model,
      promptTokens: response.usage?.prompt_tokens ?? 0,
      ...(typeof cost === "number" && Number.isFinite(cost) ? { reportedCostUsd: cost } : {}),
    };
  });
}

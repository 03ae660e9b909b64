// Text embeddings, the third model interface (chat and media are the others).

export interface EmbeddingsRequest {
  readonly model: string;
  readonly input: readonly string[];
  readonly dimensions?: number;
  readonly user?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface EmbeddingsResult {
  // One vector per input, in input order.
  readonly vectors: readonly (readonly number[])[];
  readonly model: string;
  readonly promptTokens: number;
  // What the upstream says the call cost, when it says so (OpenRouter does).
  readonly reportedCostUsd?: number;
}

export interface EmbeddingsProvider {
  readonly name: string;
  embed(request: EmbeddingsRequest): Promise<EmbeddingsResult>;
}

import { createHash } from "node:crypto";
import { simulatedTokenCount } from "../../tokens/token-counter.ts";
import type { EmbeddingsProvider, EmbeddingsRequest, EmbeddingsResult } from "../embeddings-provider.ts";

const defaultDimensions = 256;

// The offline mode's embeddings: a unit vector derived from a hash of the text, so the same text always
// gets the same vector and code that stores or compares vectors can run without a key. They carry no
// meaning: similar texts do not get similar vectors.
export class SimulatedEmbeddingsProvider implements EmbeddingsProvider {
  readonly name = "simulated" as const;

  async embed(request: EmbeddingsRequest): Promise<EmbeddingsResult> {
    request.signal?.throwIfAborted();
    const dimensions = request.dimensions ?? defaultDimensions;
    const promptTokens = await simulatedTokenCount(request.input);
    return {
      vectors: request.input.map((text) => hashVector(text, dimensions)),
      model: request.model,
      promptTokens,
    };
  }
}

function hashVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash("sha256").update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2) {
      values.push(digest.readInt16BE(i) / 32768);
    }
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

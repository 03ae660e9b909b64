// Whether a text's length alone settles an outcome that depends on its token count, so the tokenizer need
// not run. Both bounds hold for every text under o200k_base, whatever a client sends: each token stands for
// at least one UTF-8 byte, and the longest token in the vocabulary is a run of 128 spaces.
export const maxBytesPerToken = 128;

export interface TokenBounds {
  readonly lower: number;
  readonly upper: number;
}

// The bounds of a text of this many UTF-8 bytes, with `base` tokens counted already (a session's history).
export function boundsFromBytes(bytes: number, base = 0): TokenBounds {
  return { lower: base + Math.ceil(bytes / maxBytesPerToken), upper: base + bytes };
}

// Thresholds are limits compared as `tokens > threshold` (the routing rules and the refusal limit): the
// outcome is the same for every count within the bounds unless a threshold lies in [lower, upper).
export function exactCountNeeded(bounds: TokenBounds, thresholds: readonly number[]): boolean {
  return thresholds.some((threshold) => bounds.lower <= threshold && threshold < bounds.upper);
}

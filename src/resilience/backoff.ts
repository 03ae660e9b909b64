// Exponential backoff with full jitter: a random delay between 0 and min(maxDelay, base × 2^attempt).
// Full jitter spreads retries of many clients evenly instead of synchronising them into waves.
export interface BackoffSettings {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type RandomSource = () => number;

export function backoffDelay(retry: number, settings: BackoffSettings, random: RandomSource): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

// The upstream's Retry-After wins over our own guess when it asks for more patience.
export function retryDelay(
  retry: number,
  settings: BackoffSettings,
  random: RandomSource,
  retryAfterMs: number | undefined,
): number {
  const jittered = backoffDelay(retry, settings, random);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

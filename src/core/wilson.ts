// z for a two-sided 95% interval: the 97.5th percentile of the standard normal distribution.
export const z95 = 1.959963984540054;

export interface Proportion {
  readonly share: number;
  readonly lower: number;
  readonly upper: number;
}

// The Wilson score interval of `successes` out of `trials`. Unlike the textbook p ± z·√(p(1−p)/n), it stays
// inside [0, 1] and keeps a useful width at small samples and at shares near 0 or 1, which is where a
// quality figure on a few hundred judged pairs lives. Undefined with no trials: there is nothing to say.
export function wilsonInterval(successes: number, trials: number, z = z95): Proportion | undefined {
  if (trials <= 0) return undefined;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { share: p, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

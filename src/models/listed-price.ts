// Whether a price the upstream's model list gives is believable enough to charge and reserve by. The list
// is input from the network: a poisoned "1e300" would make every cost Infinity, a "0" or "1e-20" would make
// calls free and budgets blind wherever the upstream reports no cost of its own.

export interface TokenPrices {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

// USD per million tokens. Real token prices run from a few cents to a few hundred dollars.
export const minPlausiblePerMillion = 0.001;
export const maxPlausiblePerMillion = 1_000;
// How far a listed price may stray from the built-in one for the same model, either way.
export const maxDriftFactor = 10;

export type PriceVerdict =
  | { readonly accepted: true; readonly pricing: TokenPrices }
  | { readonly accepted: false; readonly reason: string };

// `builtIn`: the price the configuration or the built-in table gives the same model id, if any.
// A zero is believed only for a ":free" variant (OpenRouter's free models) or where the built-in price is
// zero too (an embedding model's output); any other zero, and anything out of range or more than
// maxDriftFactor off the built-in price, is refused, and the caller keeps the built-in price.
export function vetListedPrice(
  model: string,
  listed: TokenPrices,
  builtIn: TokenPrices | undefined,
): PriceVerdict {
  const free = model.endsWith(":free");
  for (const [side, value, reference] of [
    ["input", listed.inputPerMillion, builtIn?.inputPerMillion],
    ["output", listed.outputPerMillion, builtIn?.outputPerMillion],
  ] as const) {
    const problem = problemWith(value, reference, free);
    if (problem) return { accepted: false, reason: `${side} price $${value} per million tokens ${problem}` };
  }
  return { accepted: true, pricing: listed };
}

function problemWith(value: number, reference: number | undefined, free: boolean): string | undefined {
  if (!Number.isFinite(value) || value < 0) return "is not a price";
  if (value === 0) {
    return free || reference === 0 ? undefined : "is zero for a model that is not free";
  }
  if (value < minPlausiblePerMillion || value > maxPlausiblePerMillion) {
    return `is outside $${minPlausiblePerMillion}–$${maxPlausiblePerMillion}`;
  }
  if (reference !== undefined && reference > 0) {
    const ratio = value / reference;
    if (ratio > maxDriftFactor || ratio < 1 / maxDriftFactor) {
      return `is more than ${maxDriftFactor}× off the built-in $${reference}`;
    }
  }
  return undefined;
}

// How far a listed prompt-cache price may sit from the same listing's input price: documented reads run
// from 0.1× to 0.5× of it and writes from 1× to 2× (https://openrouter.ai/docs/features/prompt-caching);
// a read dearer than uncached input, or either far outside that span, is not believed; nor is a zero,
// except for a free model.
export const cacheReadRange = { min: 0.01, max: 1 } as const;
export const cacheWriteRange = { min: 0.5, max: 4 } as const;

export function cachePriceProblem(
  side: "read" | "write",
  perMillion: number,
  inputPerMillion: number,
  model: string,
): string | undefined {
  if (!Number.isFinite(perMillion) || perMillion < 0) return "is not a price";
  if (perMillion === 0) {
    return inputPerMillion === 0 || model.endsWith(":free")
      ? undefined
      : "is zero for a model that is not free";
  }
  if (inputPerMillion === 0) return "is not zero for a model whose input is free";
  const range = side === "read" ? cacheReadRange : cacheWriteRange;
  const ratio = perMillion / inputPerMillion;
  if (ratio < range.min || ratio > range.max) {
    return `is ${Number(ratio.toPrecision(3))}× the input price, outside ${range.min}×–${range.max}×`;
  }
  return undefined;
}

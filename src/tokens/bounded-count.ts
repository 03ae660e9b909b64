// Counting the tokens of a request's texts in small slices, so the work can be shared out (no job holds the
// thread for more than one step) and stopped once the count passes the only limit that matters.

export interface CountOutcome {
  readonly tokens: number;
  // False when counting stopped early: the texts hold more than `stopAbove` tokens, `tokens` of them counted
  // or, when `sampled`, an estimate from a sample `sampleMargin` times past the limit.
  readonly exact: boolean;
  readonly sampled?: true;
}

// The BPE merge of one piece of the tokenizer's split costs the square of its length, and a run of letters
// with no space is one piece however long: slices stay short so no text can make counting quadratic.
export const sliceChars = 256;

// Where the slice of `text` starting at `start` ends: at most `maxChars` on, before a space that follows a
// non-space. The tokenizer's split (o200k_base) always starts a new piece there, so counting the slices one by
// one gives the same total as counting the whole. A longer run without such a space (minified JSON, a long
// string of letters) is cut at `maxChars`, which can add about one token per cut.
export function sliceEnd(text: string, start: number, maxChars = sliceChars): number {
  const end = start + maxChars;
  if (end >= text.length) return text.length;
  for (let i = end; i > start + 1; i--) {
    if (text.charCodeAt(i) === 32 && !isWhitespace(text.charCodeAt(i - 1))) return i;
  }
  // Never between the two halves of a surrogate pair.
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

const whitespace = /\s/;

function isWhitespace(code: number): boolean {
  return code <= 32
    ? code === 32 || (code >= 9 && code <= 13)
    : code > 127 && whitespace.test(String.fromCharCode(code));
}

// One request's count, advanced a step at a time by whoever shares the thread out.
export class BoundedCount {
  readonly #texts: readonly string[];
  readonly #stopAbove: number;
  readonly #countSlice: (slice: string) => number;
  #text = 0;
  #offset = 0;
  #tokens = 0;

  // Stops once more than `stopAbove` tokens are counted (Infinity: counts everything).
  constructor(texts: readonly string[], stopAbove: number, countSlice: (slice: string) => number) {
    this.#texts = texts;
    this.#stopAbove = stopAbove;
    this.#countSlice = countSlice;
  }

  // Counts about `chars` more characters; the outcome once there is one.
  step(chars: number): CountOutcome | undefined {
    let budget = chars;
    while (this.#text < this.#texts.length) {
      if (this.#tokens > this.#stopAbove) return { tokens: this.#tokens, exact: false };
      if (budget <= 0) return undefined;
      const text = this.#texts[this.#text] as string;
      if (this.#offset >= text.length) {
        this.#text++;
        this.#offset = 0;
        continue;
      }
      const end = sliceEnd(text, this.#offset);
      this.#tokens += this.#countSlice(text.slice(this.#offset, end));
      budget -= end - this.#offset;
      this.#offset = end;
    }
    return this.#tokens > this.#stopAbove
      ? { tokens: this.#tokens, exact: false }
      : { tokens: this.#tokens, exact: true };
  }

  // The whole count in one go: for texts small enough to count where they are.
  finish(): CountOutcome {
    return this.step(Number.POSITIVE_INFINITY) as CountOutcome;
  }
}

// A sample this many times past the limit refuses without a count: text varies far less than that from one
// part to another, and only the sender of text that does can be refused wrongly.
export const sampleMargin = 2;
const sampleSlices = 64;

// Texts longer than `stopAbove` characters (fewer cannot hold more tokens than that) are first estimated from
// slices spread evenly over them: a huge body far past the limit is refused after counting a few kilobytes,
// whatever its text costs to count.
export function overLimitBySample(
  texts: readonly string[],
  stopAbove: number,
  countSlice: (slice: string) => number,
): CountOutcome | undefined {
  let total = 0;
  for (const text of texts) total += text.length;
  if (!(total > stopAbove)) return undefined;
  let sampledChars = 0;
  let sampledTokens = 0;
  let text = 0;
  let textStart = 0;
  for (let k = 0; k < sampleSlices; k++) {
    const position = Math.floor(((k + 0.5) * total) / sampleSlices);
    while (textStart + (texts[text] as string).length <= position)
      textStart += (texts[text++] as string).length;
    const current = texts[text] as string;
    const start = position - textStart;
    const end = sliceEnd(current, start);
    sampledTokens += countSlice(current.slice(start, end));
    sampledChars += end - start;
  }
  const estimate = Math.round((sampledTokens * total) / sampledChars);
  return estimate > stopAbove * sampleMargin ? { tokens: estimate, exact: false, sampled: true } : undefined;
}

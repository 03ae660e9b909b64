import type { Category } from "./category.ts";

const wordToCategory: Record<string, Category> = { low: "L", medium: "M", high: "H", l: "L", m: "M", h: "H" };

// The categorizer is told to answer with one letter; a model that writes more than this has not classified
// (it answered the request, or followed instructions planted in it), and its answer is not read.
const maxAnswerChars = 200;

// Reads the categorizer's answer in the shapes a classifying model gives: "H", "Category: M.",
// {"category": "L"} alone or in a fenced block, or a short sentence naming one level. Returns undefined
// when the answer is unusable, and the local rule decides instead.
export function parseCategory(answer: string): Category | undefined {
  const text = answer.replace(/<think>[\s\S]*?<\/think>/gi, "").trim();
  if (text === "" || text.length > maxAnswerChars) return undefined;
  return fromJson(text) ?? fromBareLetter(text) ?? fromLabelledSentence(text) ?? fromSingleMention(text);
}

function normalise(value: unknown): Category | undefined {
  if (typeof value !== "string") return undefined;
  return wordToCategory[value.trim().toLowerCase()];
}

// The whole answer is the object, bare or in a ```json fence: not an object somewhere inside prose.
function fromJson(text: string): Category | undefined {
  const match = /^(?:```(?:json)?\s*)?(\{[\s\S]*\})(?:\s*```)?$/i.exec(text);
  if (!match) return undefined;
  try {
    const parsed: unknown = JSON.parse(match[1] as string);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    for (const key of ["category", "complexity", "label", "class", "level", "classification"]) {
      const found = normalise(record[key]);
      if (found) return found;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function fromBareLetter(text: string): Category | undefined {
  const match = /^[\s"'`*([]*([LMH])[\s"'`*)\].!]*$/i.exec(text);
  return match?.[1] ? normalise(match[1]) : undefined;
}

function fromLabelledSentence(text: string): Category | undefined {
  const match =
    /\b(?:category|complexity|classification|label|level|class)\b[^A-Za-z0-9]{0,12}(?:is\s+|of\s+)?[^A-Za-z0-9]{0,6}(low|medium|high|[LMH])\b/i.exec(
      text,
    );
  return match?.[1] ? normalise(match[1]) : undefined;
}

function fromSingleMention(text: string): Category | undefined {
  const letters = new Set([...text.matchAll(/(?<![A-Za-z'])([LMH])(?![A-Za-z'])/g)].map((m) => m[1]));
  if (letters.size === 1) return normalise([...letters][0]);
  const words = new Set([...text.toLowerCase().matchAll(/\b(low|medium|high)\b/g)].map((m) => m[1]));
  if (letters.size === 0 && words.size === 1) return normalise([...words][0]);
  return undefined;
}

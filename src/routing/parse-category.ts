import type { Category } from "./category.ts";

const wordToCategory: Record<string, Category> = { low: "L", medium: "M", high: "H", l: "L", m: "M", h: "H" };

// The categorizer is told to answer with one letter; a model that writes more than this has not classified
// (it answered the request, or followed instructions planted in it), and its answer is not read.
const maxAnswerChars = 200;

// Reads the categorizer's answer in the shapes a classifying model gives: "H", "M - a general question",
// "Category: M.", {"category": "L"} alone or in a fenced block, or a sentence that says it classifies ("the
// complexity is medium", "I would classify this as H"). Returns undefined when the answer is unusable, and
// the local rule decides instead. Strict: a level merely mentioned in prose ("expect high winds", "the
// H-bomb") is not a label, since a categorizer that wrote prose answered the request (or obeyed text
// planted in it) instead of classifying it, and reading a letter out of that would route on chance.
export function parseCategory(answer: string): Category | undefined {
  const text = answer.replace(/<think>[\s\S]*?<\/think>/gi, "").trim();
  if (text === "" || text.length > maxAnswerChars) return undefined;
  return fromJson(text) ?? fromLeadingLabel(text) ?? fromClassifyingSentence(text);
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

const level = String.raw`(low|medium|high|[LMH])(?![\w'-])`;
const decoration = String.raw`[ \t"'\x60*_#([]*`;

// The answer opens with the level, alone or followed by a reason after a stop, a colon, a dash or a new
// line: "H", "**M**.", "L: one deliverable", "H\n\nBecause...". A level that opens a sentence goes on
// with a word instead ("High winds are expected") and is not read.
const leadingLabel = new RegExp(
  String.raw`^${decoration}(?:(?:this|it)(?: request)?(?:'s| is)(?: an?)? ${decoration})?${level}[ \t"'\x60*_)\]]*(?:$|\n|[.!:;,](?=\s|$)|\s*[-–—](?=\s)|\s*\()`,
  "i",
);

function fromLeadingLabel(text: string): Category | undefined {
  return normalise(leadingLabel.exec(text)?.[1]);
}

// A sentence that names what it gives: "the complexity is medium because...", "Classification - high",
// "I would classify this as H". The name is followed by the level itself (no "of": "the level of high
// school maths" is prose).
const classifyingSentence = new RegExp(
  String.raw`\b(?:(?:category|complexity|classification|label|level|class)\b[\s"'\x60*_]*(?:is\b|[:=\-–—])?|classif(?:y|ied)(?: (?:this|it)(?: request)?)? as(?: an?)?\b)[\s"'\x60*_]*${level}`,
  "i",
);

function fromClassifyingSentence(text: string): Category | undefined {
  return normalise(classifyingSentence.exec(text)?.[1]);
}

import type { GenerationOptions, ToolCall } from "../providers/chat-provider.ts";

// Why a routed answer cannot be given to the user as it is.
export type UnusableReason = "empty" | "length" | "invalid_json" | "refusal";

export interface CheckedAnswer {
  readonly content: string;
  readonly finishReason: string;
  readonly toolCalls?: readonly ToolCall[] | undefined;
}

// Answers that are short and open with a refusal; a longer text that declines one part and answers the
// rest is an answer, so only the opening of a short text is looked at.
const refusalOpening =
  /^\W*(?:(?:I'?m|I am) sorry|sorry|I apologi[sz]e|unfortunately)?[\s,.!-]*(?:but\s+)?(?:as an ai[^,.]{0,60}[,.]?\s*)?I\s+(?:can(?:not|'t|’t)|am (?:not able|unable)|'m (?:not able|unable)|won(?:'|’)?t|will not|must decline)\s+(?:to\s+)?(?:help|assist|comply|provide|answer|do that|fulfil|fulfill|support|complete|engage)/i;
const refusalMaxChars = 400;

// The checks of an escalation: empty, cut off by the output limit, a refusal, or not JSON when JSON was
// asked for. An answer that calls tools is the model asking the client to act: usable as it is.
export function unusableReason(
  answer: CheckedAnswer,
  generation?: GenerationOptions,
): UnusableReason | undefined {
  if (answer.toolCalls && answer.toolCalls.length > 0) return undefined;
  const text = answer.content.trim();
  if (text === "") return "empty";
  if (answer.finishReason === "length") return "length";
  if (answer.finishReason === "content_filter") return "refusal";
  if (text.length <= refusalMaxChars && refusalOpening.test(text)) return "refusal";
  if (asksForJson(generation?.responseFormat) && !isJson(text)) return "invalid_json";
  return undefined;
}

function asksForJson(format: GenerationOptions["responseFormat"]): boolean {
  return format?.type === "json_object" || format?.type === "json_schema";
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

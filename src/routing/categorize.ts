import { toOrchestratorError } from "../core/errors.ts";
import type { ModelClient, RoleCallResult } from "../models/model-client.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import { categorizerMessages } from "./categorizer-prompt.ts";
import type { Category } from "./category.ts";
import { categorizeLocally } from "./local-categorizer.ts";
import { parseCategory } from "./parse-category.ts";

export interface CategorizeOutcome {
  readonly category: Category;
  // "model" when the categorizer's answer was used; "fallback" when the local rule decided.
  readonly source: "model" | "fallback";
  readonly fallbackReason?: string;
  readonly call?: RoleCallResult;
}

// Asks the categorizer model for L/M/H. An unusable answer or a failed call never fails the request:
// the local rule decides instead, and the outcome says so.
export async function categorize(
  models: ModelClient,
  role: string,
  message: string,
  recentTurns: readonly ChatMessage[],
  signal?: AbortSignal,
  // The categorizer's own budget (routing.categorizer.timeoutMs): past it, the local rule decides.
  deadline?: number,
): Promise<CategorizeOutcome> {
  let call: RoleCallResult;
  try {
    call = await models.call(role, {
      messages: categorizerMessages(message, recentTurns),
      purpose: "categorize",
      temperature: 0,
      ...(signal ? { signal } : {}),
      ...(deadline === undefined ? {} : { deadline }),
    });
  } catch (error) {
    const reason = toOrchestratorError(error);
    return {
      category: categorizeLocally(message),
      source: "fallback",
      fallbackReason: `categorizer failed: ${reason.message}`,
    };
  }
  const parsed = parseCategory(call.content);
  if (parsed) return { category: parsed, source: "model", call };
  return {
    category: categorizeLocally(message),
    source: "fallback",
    fallbackReason: `categorizer answer was unusable: ${JSON.stringify(call.content.slice(0, 80))}`,
    call,
  };
}

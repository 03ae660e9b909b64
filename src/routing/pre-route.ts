import type { RoutingConfig } from "../config/index.ts";
import { OrchestratorError } from "../core/errors.ts";

export type PreRouteDecision =
  | {
      readonly kind: "role";
      readonly role: string;
      readonly reason: "images" | "large_context" | "very_large_context";
    }
  | { readonly kind: "categorize" };

// The spec's rules that pick a model before any categorizer call. Throws for a context past the hard limit.
export function preRoute(
  input: { readonly contextTokens: number; readonly imageCount: number; readonly counted?: ContextCount },
  rules: RoutingConfig["preRouting"],
): PreRouteDecision {
  assertWithinContextLimit(input.contextTokens, rules, input.counted);
  if (input.imageCount > 0) return { kind: "role", role: rules.imageRole, reason: "images" };
  if (input.contextTokens > rules.largeContextTokens) {
    return { kind: "role", role: rules.largeContextRole, reason: "very_large_context" };
  }
  if (input.contextTokens > rules.thinkingContextTokens) {
    return { kind: "role", role: rules.thinkingRole, reason: "large_context" };
  }
  return { kind: "categorize" };
}

// How a context's size was found: counted (or estimated where nothing near the limit depends on it), counted
// until past the limit, or estimated from a sample far past it (see tokens/bounded-count.ts).
export type ContextCount = "exact" | "at_least" | "sampled";

const sizeWording: Record<ContextCount, (tokens: number) => string> = {
  exact: (tokens) => `${tokens} tokens`,
  at_least: (tokens) => `at least ${tokens} tokens`,
  sampled: (tokens) => `about ${tokens} tokens (estimated from a sample of its text)`,
};

// The hard limit holds whoever picked the model.
export function assertWithinContextLimit(
  contextTokens: number,
  rules: RoutingConfig["preRouting"],
  counted: ContextCount = "exact",
): void {
  if (contextTokens <= rules.maxContextTokens) return;
  throw new OrchestratorError({
    kind: "resource",
    code: "context_too_large",
    status: 413,
    message: `the request's context is ${sizeWording[counted](contextTokens)}, above the limit of ${rules.maxContextTokens}; start a new session or send less text`,
  });
}

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
  input: { readonly contextTokens: number; readonly imageCount: number },
  rules: RoutingConfig["preRouting"],
): PreRouteDecision {
  assertWithinContextLimit(input.contextTokens, rules);
  if (input.imageCount > 0) return { kind: "role", role: rules.imageRole, reason: "images" };
  if (input.contextTokens > rules.largeContextTokens) {
    return { kind: "role", role: rules.largeContextRole, reason: "very_large_context" };
  }
  if (input.contextTokens > rules.thinkingContextTokens) {
    return { kind: "role", role: rules.thinkingRole, reason: "large_context" };
  }
  return { kind: "categorize" };
}

// The hard limit holds whoever picked the model.
export function assertWithinContextLimit(contextTokens: number, rules: RoutingConfig["preRouting"]): void {
  if (contextTokens <= rules.maxContextTokens) return;
  throw new OrchestratorError({
    kind: "resource",
    code: "context_too_large",
    status: 413,
    message: `the request's context is ${contextTokens} tokens, above the limit of ${rules.maxContextTokens}; start a new session or send less text`,
  });
}

import type { ModelRoleDefinition } from "../config/index.ts";
import type { UpstreamCall } from "./upstream-call.ts";

// Calls that exist only because of routing: without it, a request would go straight to the big model.
// Shadow calls (the quality figure's baseline answers and judgings) are not traffic at all.
export const routingOverhead: ReadonlySet<UpstreamCall["purpose"]> = new Set<UpstreamCall["purpose"]>([
  "categorize",
  "acknowledge",
  "warmup",
  "shadow",
  "judge",
  "speculative",
]);

// What this call would have cost had the traffic gone, unrouted, to the baseline role (thinking_ai):
// a chat call's tokens at the baseline's list prices, routing overhead not at all, and images and videos
// at their own cost (there is nothing cheaper to compare them with). Failed calls cost nothing either way.
export function baselineCost(call: UpstreamCall, baseline: ModelRoleDefinition): number {
  if (call.outcome !== "ok" && call.outcome !== "cached") return 0;
  if (call.kind !== "chat") return call.outcome === "cached" ? (call.savedUsd ?? 0) : call.costUsd;
  if (routingOverhead.has(call.purpose)) return 0;
  const { inputPerMillion, outputPerMillion } = baseline.pricing;
  return (call.promptTokens * inputPerMillion + call.completionTokens * outputPerMillion) / 1_000_000;
}

import type { ModelRoleDefinition } from "../config/index.ts";
import { routingOverhead, type UpstreamCall } from "../store/upstream-call.ts";

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

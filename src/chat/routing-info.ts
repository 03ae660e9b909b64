import type { TraceStep } from "../core/trace-step.ts";
import type { UnusableReason } from "../routing/answer-check.ts";
import type { RouteRule, Skip } from "../routing/router.ts";

// How an answer was routed, as the answer reports it (and the route span records it).
export interface RoutingInfo {
  // What decided the model: a pre-routing rule, the category, or the client naming it.
  readonly rule: RouteRule;
  readonly contextTokens: number;
  readonly categorizer?: {
    readonly source: "model" | "fallback" | "memo";
    readonly model?: string;
    readonly fallbackReason?: string;
    readonly ms?: number;
  };
  // The likely route's call, started alongside the categorizer: used, or aborted as waste.
  readonly speculation?: "confirmed" | "refuted";
  // The category's traffic was stepped up its ladder because its judged quality fell short.
  readonly steppedUp?: boolean;
  // Roles the constraints passed over, and why.
  readonly skipped?: readonly Skip[];
  // Every step that decided, in order (see core/trace-step.ts).
  readonly trace: readonly TraceStep[];
  // The routed model's answer was unusable and a stronger role answered instead.
  readonly escalated?: {
    readonly fromRole: string;
    readonly fromModel: string;
    readonly reason: UnusableReason;
  };
}

import { currentContext } from "../core/request-context.ts";
import type { RouteDecision } from "../routing/router.ts";
import type { RoutingInfo } from "./routing-info.ts";

// The routing decision as a span of the request's trace, recorded once the route is known: what decided
// it (rule, category and how it was found), where it goes, and whether speculation paid off.
export function traceRoute(routing: RoutingInfo, decision: RouteDecision, startTime: number): void {
  const parent = currentContext()?.span;
  if (!parent) return;
  const span = parent.child("orchestrator.route", {
    startTime,
    attributes: {
      "orchestrator.route_rule": routing.rule,
      "orchestrator.decision": decision.kind,
      "orchestrator.category": decision.kind === "classify" ? undefined : (decision.category ?? undefined),
      "orchestrator.role": decision.kind === "answer" ? decision.role : undefined,
      "orchestrator.context_tokens": routing.contextTokens,
      "orchestrator.categorizer.source": routing.categorizer?.source,
      "orchestrator.categorizer.model": routing.categorizer?.model,
      "orchestrator.categorizer.fallback_reason": routing.categorizer?.fallbackReason,
      "orchestrator.speculation": routing.speculation,
      "orchestrator.stepped_up": routing.steppedUp,
      "orchestrator.skipped_roles": routing.skipped?.map((skip) => skip.role),
    },
  });
  span.end();
}

import type { RoutingConfig } from "../config/index.ts";
import type { TraceStep } from "../core/trace-step.ts";
import {
  describeShortfall,
  type RequestNeeds,
  type RoleFacts,
  type Shortfall,
  shortfallOf,
} from "./capabilities.ts";
import type { Category } from "./category.ts";
import { assertWithinContextLimit, type ContextCount, preRoute } from "./pre-route.ts";
import type { QualityStanding } from "./quality-standing.ts";

// The router: one pure decision from what a request is and what the service knows, to who answers it. In
// order: explicit target → hard limits → pre-routing rules → classification → route table → judged quality →
// constraints (capabilities, open circuits) → the pick. It performs no call: the chat service carries the
// decision out, asking for a classification when the decision says it needs one.

export type RouteTarget =
  | { readonly kind: "auto" }
  | { readonly kind: "role"; readonly role: string }
  // A model id the client named, passed through as it is.
  | { readonly kind: "model"; readonly model: string };

export interface RouteRequest {
  readonly target: RouteTarget;
  readonly contextTokens: number;
  readonly contextCount?: ContextCount;
  // What of the context must reach the model whole: all of a conversation the client sent, but only the
  // new message of a session, whose stored history is trimmed to fit each model. Default: contextTokens.
  readonly requiredTokens?: number;
  readonly imageCount: number;
  readonly needs: RequestNeeds;
}

export interface Classification {
  readonly category: Category;
  // The categorizer model's label, the local rule's (the categorizer failed or answered nonsense), or a
  // label remembered from the same question.
  readonly source: "model" | "fallback" | "memo";
  readonly ms?: number;
  readonly model?: string;
  readonly fallbackReason?: string;
}

export type RouteRule = "images" | "large_context" | "very_large_context" | "category" | "explicit";

export interface Skip {
  readonly role: string;
  readonly reason: Shortfall;
}

export type RouteDecision =
  | {
      readonly kind: "classify";
      // The role the likely category would be answered by: its call may start alongside the categorizer.
      readonly speculate?: string;
      readonly trace: readonly TraceStep[];
    }
  | {
      readonly kind: "answer";
      // undefined: the model the client named (target kind "model").
      readonly role: string | undefined;
      readonly rule: RouteRule;
      readonly category: Category | null;
      // Roles that answer again, in turn, when an answer is unusable (empty, cut off, a refusal, bad JSON).
      readonly escalation: readonly string[];
      readonly skipped: readonly Skip[];
      readonly steppedUp: boolean;
      readonly trace: readonly TraceStep[];
    }
  | {
      readonly kind: "orchestrate";
      readonly category: Category;
      readonly trace: readonly TraceStep[];
    };

export type RouterPolicy = Pick<RoutingConfig, "preRouting" | "categories" | "escalation" | "speculate">;

// What the service knows now: each role's models (capabilities, windows, circuits) and judged quality.
export interface RouterKnowledge {
  facts(role: string): RoleFacts | undefined;
  quality(category: Category): QualityStanding | undefined;
}

export function decideRoute(
  request: RouteRequest,
  policy: RouterPolicy,
  knowledge: RouterKnowledge,
  classification?: Classification,
): RouteDecision {
  const trace: TraceStep[] = [];
  const { target } = request;
  if (target.kind !== "auto") {
    trace.push({
      step: "explicit",
      detail: `the client named ${target.kind === "role" ? target.role : target.model}`,
    });
  }
  assertWithinContextLimit(request.contextTokens, policy.preRouting, request.contextCount);
  trace.push({
    step: "limit",
    detail: `context ${request.contextTokens} tokens, within ${policy.preRouting.maxContextTokens}`,
  });
  if (target.kind !== "auto") {
    const role = target.kind === "role" ? target.role : undefined;
    trace.push({ step: "pick", detail: target.kind === "role" ? target.role : target.model });
    return answer(trace, { role, rule: "explicit", category: null });
  }

  const pre = preRoute(
    { contextTokens: request.contextTokens, imageCount: request.imageCount, counted: request.contextCount },
    policy.preRouting,
  );
  if (pre.kind === "role") {
    trace.push({ step: "pre_rule", detail: `${preRuleWords[pre.reason](request)} → ${pre.role}` });
    const picked = constrained([pre.role, ...alternatives(policy)], request, knowledge, trace);
    return answer(trace, { role: picked.role, rule: pre.reason, category: null, skipped: picked.skipped });
  }
  trace.push({
    step: "pre_rule",
    detail: `none applies (${request.imageCount} images, ${request.contextTokens} tokens)`,
  });

  if (!classification) {
    const likely = policy.speculate.enabled
      ? decideRoute(request, policy, knowledge, { category: policy.speculate.category, source: "model" })
      : undefined;
    return {
      kind: "classify",
      ...(likely?.kind === "answer" && likely.role !== undefined ? { speculate: likely.role } : {}),
      trace,
    };
  }
  trace.push(classificationStep(classification));

  const { category } = classification;
  const route = policy.categories[category];
  if (route === "orchestration") {
    if (!request.needs.tools && !request.needs.jsonSchema && !request.needs.jsonObject) {
      trace.push({ step: "route_table", detail: `${category} → orchestration` });
      return { kind: "orchestrate", category, trace };
    }
    // A workflow's acknowledgement could honour neither tools nor a response format: one call to the
    // thinking role answers instead.
    const role = policy.preRouting.thinkingRole;
    trace.push({
      step: "route_table",
      detail: `${category} → orchestration; tools or a response format need one answer: ${role}`,
    });
    const picked = constrained([role, ...alternatives(policy)], request, knowledge, trace);
    return answer(trace, { role: picked.role, rule: "category", category, skipped: picked.skipped });
  }
  trace.push({ step: "route_table", detail: `${category} → ${route}` });

  let ladder = ladderRoles(category, policy);
  let steppedUp = false;
  const standing = knowledge.quality(category);
  if (standing?.steppedUp && ladder.length > 1) {
    steppedUp = true;
    trace.push({ step: "quality", detail: `${qualityWords(standing)}: stepped up to ${ladder[1]}` });
    ladder = ladder.slice(1);
  }
  const picked = constrained([...ladder, ...alternatives(policy)], request, knowledge, trace);
  const after = ladder.indexOf(picked.role);
  const escalation =
    policy.escalation.enabled && after >= 0
      ? ladder.slice(after + 1).filter((role) => capable(role, request, knowledge))
      : [];
  return answer(trace, {
    role: picked.role,
    rule: "category",
    category,
    skipped: picked.skipped,
    escalation,
    steppedUp,
  });
}

// The roles a category's traffic climbs: its own route, then each stronger category's route up the
// configured ladder (M → L by default), without orchestration or repeats.
export function ladderRoles(
  category: Category,
  policy: Pick<RouterPolicy, "categories" | "escalation">,
): string[] {
  const roles: string[] = [];
  const seen = new Set<Category>();
  for (
    let at: Category | undefined = category;
    at !== undefined && !seen.has(at);
    at = policy.escalation.ladder[at]
  ) {
    seen.add(at);
    const route = policy.categories[at];
    if (route !== "orchestration" && !roles.includes(route)) roles.push(route);
  }
  return roles;
}

// Where a request goes when none of its own route's roles can serve it: the roles with the most room.
function alternatives(policy: RouterPolicy): string[] {
  return [policy.preRouting.thinkingRole, policy.preRouting.largeContextRole];
}

// The first candidate that can serve the request; with none, the first candidate as it is (its own
// fallbacks may still serve it, and the call's own error then says why not).
function constrained(
  candidates: readonly string[],
  request: RouteRequest,
  knowledge: RouterKnowledge,
  trace: TraceStep[],
): { role: string; skipped: Skip[] } {
  const unique = [...new Set(candidates)];
  const skipped: Skip[] = [];
  for (const role of unique) {
    const facts = knowledge.facts(role);
    const shortfall = facts && shortfallOf(facts, request.needs, requiredTokens(request));
    if (!facts || !shortfall) {
      trace.push({ step: "pick", detail: facts ? `${role} (${facts.model})` : role });
      return { role, skipped };
    }
    skipped.push({ role, reason: shortfall });
    trace.push({
      step: "constraint",
      detail: `${role} skipped: ${describeShortfall(shortfall, facts, requiredTokens(request))}`,
    });
  }
  const first = unique[0] ?? "";
  trace.push({
    step: "pick",
    detail: `${first}, though no role could serve the request (${skipped.map((s) => s.reason).join(", ")})`,
  });
  return { role: first, skipped };
}

function requiredTokens(request: RouteRequest): number {
  return request.requiredTokens ?? request.contextTokens;
}

function capable(role: string, request: RouteRequest, knowledge: RouterKnowledge): boolean {
  const facts = knowledge.facts(role);
  return !facts || shortfallOf(facts, request.needs, requiredTokens(request)) === undefined;
}

function answer(
  trace: TraceStep[],
  pick: {
    role: string | undefined;
    rule: RouteRule;
    category: Category | null;
    skipped?: readonly Skip[];
    escalation?: readonly string[];
    steppedUp?: boolean;
  },
): RouteDecision {
  return {
    kind: "answer",
    role: pick.role,
    rule: pick.rule,
    category: pick.category,
    escalation: pick.escalation ?? [],
    skipped: pick.skipped ?? [],
    steppedUp: pick.steppedUp ?? false,
    trace,
  };
}

const preRuleWords: Record<"images" | "large_context" | "very_large_context", (r: RouteRequest) => string> = {
  images: (r) => `${r.imageCount} image${r.imageCount === 1 ? "" : "s"}`,
  large_context: (r) => `context ${r.contextTokens} tokens`,
  very_large_context: (r) => `context ${r.contextTokens} tokens`,
};

function classificationStep(c: Classification): TraceStep {
  if (c.source === "memo")
    return { step: "memo", detail: `the same question was labelled ${c.category} recently` };
  const who =
    c.source === "model"
      ? (c.model ?? "the categorizer")
      : `the local rule (${c.fallbackReason ?? "no label"})`;
  return {
    step: "categorizer",
    detail: `${who} said ${c.category}`,
    ...(c.ms === undefined ? {} : { ms: c.ms }),
  };
}

function qualityWords(s: QualityStanding): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `${s.category} judged as good ${pct(s.share)} (${pct(s.low)}–${pct(s.high)}, ${s.samples} verdicts)`;
}

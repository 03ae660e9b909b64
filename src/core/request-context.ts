import { AsyncLocalStorage } from "node:async_hooks";
import type { TraceSpan } from "./trace-span.ts";
import type { TraceStep } from "./trace-step.ts";
import type { UpstreamTime } from "./upstream-time.ts";

// What is known about the request a piece of work serves. It follows the work through routing, workflow
// tasks (also when they run in the background) and upstream calls, so logs, the cost ledger, budgets and
// the response cache see it without every function passing it on.
export interface RequestContext {
  readonly requestId: string;
  readonly endpoint: string;
  // The id (a digest) of the client key the request presented, once validated; undefined in open mode.
  clientId?: string | undefined;
  // When everything the request does must be over (ms since the epoch); absent for background work,
  // which runs under its own timeout.
  deadline?: number | undefined;
  sessionId?: string | undefined;
  workflowId?: string | undefined;
  category?: string | undefined;
  // What decided the route: a pre-routing rule, the category, or the client naming the model.
  routeRule?: string | undefined;
  // Every step that decided the route, kept with the request log row for GET /requests/{id}.
  routeTrace?: readonly TraceStep[] | undefined;
  // The workflow run the request started (or resumed); the run itself carries workflowId.
  startedWorkflowId?: string | undefined;
  // Cache-Control: no-cache from the client: do not answer from the response cache.
  readonly skipCache?: boolean;
  // The client asked for caching even where it is not the default (temperature above 0).
  preferCache?: boolean;
  // Set when the answer the client receives came from the response cache.
  cacheHit?: boolean;
  // Why the routed answer was unusable, once a stronger role has been asked to answer instead.
  escalation?: string | undefined;
  // Time spent waiting on upstream calls; shared by reference with everything the request starts.
  readonly upstreamTime?: UpstreamTime;
  // Work for the quality figure (a baseline answer, a judging), done in the background after the answer.
  readonly shadow?: boolean;
  // The piece of work (a workflow task) that writes its calls' ledger rows itself, with its result.
  readonly ledgerOwner?: object;
  // The trace span the work belongs to (the request's, a workflow run's or task's): the parent of the spans
  // it makes. Undefined with tracing off.
  readonly span?: TraceSpan | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function runWithContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

// Runs `work` in a copy of the current context with some fields changed (a workflow's own id, say).
export function runWithContextPatch<T>(patch: Partial<RequestContext>, work: () => T): T {
  const base = storage.getStore() ?? { requestId: "background", endpoint: "background" };
  return storage.run({ ...base, ...patch }, work);
}

// Why a request went where it went: the steps that decided, each with what it saw, in the order they ran.
// The router writes them; the request context carries them to the request log.
export type TraceStepName =
  | "explicit"
  | "limit"
  | "pre_rule"
  | "memo"
  | "categorizer"
  | "speculation"
  | "route_table"
  | "quality"
  | "constraint"
  | "pick"
  | "escalation";

export interface TraceStep {
  readonly step: TraceStepName;
  readonly detail: string;
  // How long the step took, where it waited on something (the categorizer).
  readonly ms?: number;
}

// The shapes of the service's answers that the page reads.

export interface Health {
  readonly status: string;
  readonly mode: "live" | "offline";
  readonly version: string;
  readonly notice?: string;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cost_usd: number;
}

export interface ChatReply {
  readonly session_id: string;
  readonly response: string;
  readonly category: string | null;
  readonly model: string;
  readonly role: string;
  readonly provider: string;
  readonly usage: Usage;
  readonly cached?: boolean;
  readonly workflow_id?: string;
  readonly routing?: {
    // The routed model's answer was unusable and a stronger role answered.
    readonly escalated?: { readonly from_model: string; readonly reason: string };
  };
}

export interface TaskView {
  readonly stage: number;
  readonly stage_type: "linear" | "inline";
  readonly index: number;
  readonly model: string | null;
  readonly role: string;
  readonly output_variable: string;
  readonly status: "waiting" | "running" | "completed" | "failed" | "cancelled";
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly usage: Usage | null;
  readonly error?: { readonly message: string };
}

export interface WorkflowRecord {
  readonly workflow_id: string;
  readonly kind: string;
  readonly status: "running" | "completed" | "failed" | "cancelled" | "interrupted";
  readonly outputs: Record<string, string>;
  readonly tasks: readonly TaskView[];
  readonly usage: Usage;
  readonly result?: string;
  readonly model?: string;
  readonly error?: { readonly message: string };
}

export interface TemplateView {
  readonly name: string;
  readonly description: string;
  readonly variables: ReadonlyArray<{
    readonly name: string;
    readonly description: string;
    readonly required: boolean;
    readonly default?: string;
  }>;
}

export interface StatsView {
  readonly requests: { readonly total: number; readonly by_category: Record<string, number> };
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly role: string;
    readonly calls: number;
    readonly cost_usd: number;
  }>;
  readonly cost: { readonly total_usd: number };
  readonly savings: {
    readonly baseline_role: string;
    readonly baseline_usd: number;
    readonly actual_usd: number;
    readonly saved_usd: number;
    readonly saved_percent: number | null;
    readonly method: string;
  };
  readonly cache_hits: number;
  readonly quality: QualityView;
}

export interface QualityGroupView {
  readonly sampled: number;
  readonly judged: number;
  readonly verdicts: { readonly better: number; readonly equal: number; readonly worse: number };
  readonly as_good_or_better: {
    readonly count: number;
    readonly share: number | null;
    readonly ci95: { readonly lower: number; readonly upper: number } | null;
  };
}

export interface QualityView extends QualityGroupView {
  readonly baseline_role: string;
  readonly judge_role: string;
  readonly sample_rate: number;
  readonly by_category: Record<string, QualityGroupView>;
  readonly by_model: Record<string, QualityGroupView>;
  readonly method: string;
}

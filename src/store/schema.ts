import type { Generated } from "kysely";

// Table shapes as Kysely sees them; timestamps are ISO-8601 strings, structured values JSON text.
export interface DatabaseSchema {
  sessions: SessionsTable;
  messages: MessagesTable;
  workflow_runs: WorkflowRunsTable;
  workflow_tasks: WorkflowTasksTable;
  artifacts: ArtifactsTable;
  upstream_calls: UpstreamCallsTable;
  api_requests: ApiRequestsTable;
  shadow_samples: ShadowSamplesTable;
}

export interface SessionsTable {
  id: string;
  created_at: string;
  updated_at: string;
  // Running totals and the history policy's state (see migration 0017).
  message_count: Generated<number>;
  total_tokens: Generated<number>;
  window_start: Generated<number>;
  window_tokens: Generated<number>;
  summary: string | null;
  summary_tokens: Generated<number>;
  summarized_messages: Generated<number>;
}

export interface MessagesTable {
  id: Generated<number>;
  session_id: string;
  role: string;
  content: string;
  tokens: number;
  image_count: number;
  category: string | null;
  model: string | null;
  provider: string | null;
  workflow_id: string | null;
  created_at: string;
}

export interface WorkflowRunsTable {
  id: string;
  session_id: string | null;
  kind: string;
  status: string;
  request: string;
  result: string | null;
  error: string | null;
  model: string | null;
  usage: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  workflow: string | null;
  attempt: string | null;
  owner: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  recoveries: number;
  estimate_usd: number | null;
}

export interface WorkflowTasksTable {
  run_id: string;
  stage: number;
  task_index: number;
  role: string;
  model: string | null;
  output_variable: string;
  status: string;
  output: string | null;
  error: string | null;
  usage: string | null;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  attempt: string | null;
}

export interface ArtifactsTable {
  id: string;
  run_id: string | null;
  content_type: string;
  data: Uint8Array;
  simulated: number;
  created_at: string;
  owner: string | null;
}

export interface UpstreamCallsTable {
  id: Generated<number>;
  at: string;
  request_id: string | null;
  endpoint: string | null;
  session_id: string | null;
  workflow_id: string | null;
  category: string | null;
  purpose: string;
  kind: string;
  role: string;
  model: string;
  provider: string;
  outcome: string;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens: Generated<number>;
  cache_read_tokens: Generated<number>;
  cache_write_tokens: Generated<number>;
  cache_saved_usd: Generated<number>;
  latency_ms: number;
  cost_usd: number;
  cost_source: string;
  baseline_usd: number;
  saved_usd: number;
  escalation: string | null;
  shadow: Generated<number>;
  client_id: string | null;
  route_rule: string | null;
}

export interface ShadowSamplesTable {
  id: Generated<number>;
  at: string;
  request_id: string | null;
  session_id: string | null;
  category: string | null;
  routed_role: string;
  routed_model: string;
  baseline_role: string;
  baseline_model: string | null;
  judge_model: string | null;
  status: string;
  verdict: string | null;
  reason: string | null;
  routed_first: number | null;
  error_code: string | null;
  cost_usd: number;
}

export interface ApiRequestsTable {
  id: Generated<number>;
  at: string;
  request_id: string;
  method: string;
  endpoint: string;
  status: number;
  category: string | null;
  latency_ms: number;
  cache_hit: number;
  session_id: string | null;
  route_rule: string | null;
  // JSON: [[step, detail], [step, detail, ms], ...] (see telemetry/route-trace-record.ts).
  routing_trace: string | null;
  client_id: string | null;
  workflow_id: string | null;
}

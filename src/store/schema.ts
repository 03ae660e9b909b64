import type { Generated } from "kysely";

// Table shapes as Kysely sees them; timestamps are ISO-8601 strings, structured values JSON text.
export interface DatabaseSchema {
  sessions: SessionsTable;
  messages: MessagesTable;
  workflow_runs: WorkflowRunsTable;
  workflow_tasks: WorkflowTasksTable;
  artifacts: ArtifactsTable;
}

export interface SessionsTable {
  id: string;
  created_at: string;
  updated_at: string;
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
}

export interface ArtifactsTable {
  id: string;
  run_id: string | null;
  content_type: string;
  data: Uint8Array;
  simulated: number;
  created_at: string;
}

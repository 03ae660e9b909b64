import type { Generated } from "kysely";

// Table shapes as Kysely sees them; timestamps are ISO-8601 strings, structured values JSON text.
export interface DatabaseSchema {
  sessions: SessionsTable;
  messages: MessagesTable;
  workflow_runs: WorkflowRunsTable;
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
}

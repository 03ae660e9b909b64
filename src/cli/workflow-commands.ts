import { readFile } from "node:fs/promises";
import type { ApiClient } from "./api-client.ts";
import { CliError, exitCodes, usageError } from "./cli-error.ts";
import { formatUsd, type Output } from "./output.ts";

export interface WorkflowRecord {
  readonly workflow_id: string;
  readonly status: string;
  readonly outputs: Record<string, string>;
  readonly result?: string;
  readonly error?: { readonly message: string; readonly code: string };
  readonly usage: { readonly cost_usd: number };
  readonly tasks: ReadonlyArray<{ readonly stage: number; readonly index: number; readonly role: string }>;
}

interface TaskEvent {
  readonly stage: number;
  readonly index: number;
  readonly role?: string;
  readonly model?: string;
  readonly output_variable?: string;
  readonly attempt?: number;
  readonly usage?: { readonly cost_usd: number };
  readonly error?: { readonly message: string };
  readonly status?: string;
}

// Reads a workflow file: the POST /workflow body ({"workflow": [...], "variables": {...}}) or just the stages.
export async function readWorkflowFile(
  path: string,
): Promise<{ workflow: unknown[]; variables: Record<string, string> }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return { workflow: parsed, variables: {} };
  const body = parsed as { workflow?: unknown; variables?: Record<string, string> } | null;
  if (!body || !Array.isArray(body.workflow)) {
    throw usageError(`${path} must hold {"workflow": [stages], "variables": {...}} or an array of stages`);
  }
  return { workflow: body.workflow, variables: body.variables ?? {} };
}

// `--var name=value`, repeatable.
export function parseVariables(pairs: readonly string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw usageError(`--var ${pair}: write it as name=value`);
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return variables;
}

// Shows the tasks' progress as it happens (on stderr) until the workflow ends, then returns its record.
export async function followWorkflow(
  client: ApiClient,
  workflowId: string,
  output: Output,
  quiet: boolean,
): Promise<WorkflowRecord> {
  const started = new Map<string, number>();
  for await (const message of client.events("GET", `/workflow/${workflowId}/events`)) {
    if (quiet) continue;
    const event = JSON.parse(message.data) as TaskEvent;
    const key = `${event.stage}.${event.index}`;
    const at = `stage ${event.stage + 1}, task ${event.index + 1}`;
    switch (message.event) {
      case "plan_ready":
        output.note("  planned the workflow\n");
        break;
      case "task_started":
        started.set(key, Date.now());
        output.note(`  ${at}: ${event.role} (${event.model}) running\n`);
        break;
      case "task_retrying":
        output.note(`  ${at}: trying again (attempt ${event.attempt}): ${event.error?.message}\n`);
        break;
      case "task_completed": {
        const seconds = ((Date.now() - (started.get(key) ?? Date.now())) / 1000).toFixed(1);
        output.note(
          `  ${at}: ${event.output_variable} done in ${seconds} s, ${formatUsd(event.usage?.cost_usd)}\n`,
        );
        break;
      }
      case "task_failed":
        output.note(`  ${at}: failed: ${event.error?.message}\n`);
        break;
      default:
        break;
    }
  }
  return client.get<WorkflowRecord>(`/workflow/${workflowId}`);
}

export function printWorkflow(record: WorkflowRecord, output: Output, json: boolean): void {
  if (json) {
    output.result(`${JSON.stringify(record, null, 2)}\n`);
  } else {
    for (const [name, value] of Object.entries(record.outputs)) output.result(`## ${name}\n\n${value}\n\n`);
    if (record.result) output.result(`${record.result}\n`);
    output.note(`workflow ${record.workflow_id}: ${record.status}, ${formatUsd(record.usage.cost_usd)}\n`);
  }
  if (record.status !== "completed") {
    throw new CliError(
      `the workflow ${record.status}${record.error ? `: ${record.error.message}` : ""}`,
      exitCodes.failed,
    );
  }
}

export async function runWorkflowFile(
  client: ApiClient,
  path: string,
  variables: Record<string, string>,
  options: { output: Output; json: boolean },
): Promise<void> {
  const body = await readWorkflowFile(path);
  await submitAndFollow(
    client,
    "/workflow",
    { ...body, variables: { ...body.variables, ...variables }, async: true },
    "",
    options,
  );
}

export async function runTemplate(
  client: ApiClient,
  name: string,
  variables: Record<string, string>,
  options: { output: Output; json: boolean },
): Promise<void> {
  await submitAndFollow(
    client,
    `/template/${encodeURIComponent(name)}?async=true`,
    variables,
    `template ${name}: `,
    options,
  );
}

// Starts the workflow in the background, shows its progress, and prints what it produced.
async function submitAndFollow(
  client: ApiClient,
  path: string,
  body: unknown,
  label: string,
  options: { output: Output; json: boolean },
): Promise<void> {
  const submitted = await client.post<{ workflow_id: string }>(path, body);
  if (!options.json) options.output.note(`${label}workflow ${submitted.workflow_id} started\n`);
  const record = await followWorkflow(client, submitted.workflow_id, options.output, options.json);
  printWorkflow(record, options.output, options.json);
}

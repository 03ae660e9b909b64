import type { ApiClient } from "./api-client.ts";
import { CliError, exitCodes } from "./cli-error.ts";
import { formatUsd, type Output } from "./output.ts";
import { followWorkflow, type WorkflowRecord } from "./workflow-commands.ts";

interface ChatResponse {
  readonly session_id: string;
  readonly response: string;
  readonly category: string | null;
  readonly model: string;
  readonly usage: { readonly cost_usd: number };
  readonly workflow_id?: string;
  readonly cached?: boolean;
}

interface Chunk {
  readonly choices?: ReadonlyArray<{ readonly delta?: { readonly content?: string } }>;
  readonly orchestrator?: Partial<ChatResponse> & { readonly category?: string | null };
  readonly error?: { readonly message: string };
}

export interface ChatOptions {
  readonly output: Output;
  readonly json: boolean;
  readonly sessionId?: string | undefined;
  // For H requests: wait for the workflow and print its answer (the default), or stop at the acknowledgement.
  readonly wait: boolean;
}

// Sends a message to /chat: the answer streams to stdout as it is written; category, model and cost follow
// on stderr. An H request's acknowledgement comes first, then the workflow's progress and its answer.
export async function chat(client: ApiClient, message: string, options: ChatOptions): Promise<void> {
  const body = { message, ...(options.sessionId ? { session_id: options.sessionId } : {}) };
  if (options.json) {
    const reply = await client.post<ChatResponse>("/chat", body);
    const workflow =
      reply.workflow_id && options.wait
        ? await followWorkflow(client, reply.workflow_id, options.output, true)
        : undefined;
    options.output.result(`${JSON.stringify(workflow ? { ...reply, workflow } : reply, null, 2)}\n`);
    assertCompleted(workflow);
    return;
  }
  let reply: Partial<ChatResponse> | undefined;
  for await (const event of client.events("POST", "/chat", { ...body, stream: true })) {
    if (event.data === "[DONE]") break;
    const chunk = JSON.parse(event.data) as Chunk;
    if (chunk.error) throw new CliError(`the answer failed: ${chunk.error.message}`, exitCodes.failed);
    const text = chunk.choices?.[0]?.delta?.content;
    if (text) options.output.result(text);
    if (chunk.orchestrator?.session_id && chunk.orchestrator.usage) reply = chunk.orchestrator;
  }
  options.output.result("\n");
  if (!reply) throw new CliError("the answer ended without its summary", exitCodes.failed);
  options.output.note(
    `[${reply.category ?? "pre-routed"} · ${reply.model} · ${formatUsd(reply.usage?.cost_usd)}${reply.cached ? " · cached" : ""} · session ${reply.session_id}]\n`,
  );
  if (!reply.workflow_id || !options.wait) return;
  const workflow = await followWorkflow(client, reply.workflow_id, options.output, false);
  if (workflow.result) options.output.result(`\n${workflow.result}\n`);
  options.output.note(
    `[workflow ${workflow.workflow_id} · ${workflow.status} · ${formatUsd(workflow.usage.cost_usd)}]\n`,
  );
  assertCompleted(workflow);
}

function assertCompleted(workflow: WorkflowRecord | undefined): void {
  if (workflow && workflow.status !== "completed") {
    throw new CliError(`the workflow ${workflow.status}: ${workflow.error?.message ?? ""}`, exitCodes.failed);
  }
}

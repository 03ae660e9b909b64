import type { ChatTarget } from "../chat/chat-service.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { Store } from "../store/store.ts";
import type { WorkflowService } from "../workflows/workflow-service.ts";
import type { ExtraUsage } from "./completion-stream.ts";

// What the OpenAI-, Responses- and Anthropic-style endpoints share: which model a request's `model`
// names, and the finished answer of an H request's background workflow.

export function resolveTarget(models: ModelClient, name: string): ChatTarget {
  if (name === "auto") return { kind: "auto" };
  const role = models.catalog.resolve(name);
  if (role?.definition.kind === "chat") return { kind: "role", role: name };
  const passthrough = role ? undefined : models.catalog.passthrough(name);
  if (passthrough) return { kind: "model", resolved: passthrough };
  throw new OrchestratorError({
    kind: "logical",
    code: "model_not_found",
    status: 404,
    field: "model",
    message: `The model '${name}' does not exist here: use auto, a chat role (see GET /v1/models) or an upstream model id such as vendor/model`,
  });
}

// An H request's answer comes from its background workflow; the OpenAI API waits for it.
export async function finishedWorkflow(
  deps: { readonly workflows: WorkflowService; readonly store: Store },
  workflowId: string,
): Promise<{ text: string; usage: ExtraUsage }> {
  await deps.workflows.waitFor(workflowId);
  const run = await deps.store.getRun(workflowId);
  if (run?.status !== "completed" || run.result === null) {
    throw new OrchestratorError({
      kind: run?.status === "cancelled" ? "logical" : "transient",
      code: run?.error?.code ?? "workflow_failed",
      status: 502,
      message: `the workflow ${workflowId} did not complete: ${run?.error?.message ?? run?.status ?? "unknown"}`,
    });
  }
  return {
    text: run.result,
    usage: run.usage ?? { promptTokens: 0, completionTokens: 0, costUsd: 0 },
  };
}

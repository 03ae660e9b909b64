import type { ChatInput, ChatReply, ChatTarget } from "../chat/chat-service.ts";
import { invalidRequest, OrchestratorError } from "../core/errors.ts";
import { addTokens, type TokenUsage, type Usage, zeroUsage } from "../core/usage.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { ChatMessage, GenerationOptions } from "../providers/chat-provider.ts";
import type { Store } from "../store/store.ts";
import type { WorkflowService } from "../workflows/workflow-service.ts";

// What the OpenAI-, Responses- and Anthropic-style endpoints share: which model a request's `model`
// names, the pipeline input built from a converted request, and the finished answer of an H request's
// background workflow.

// A request body after its API's conversion: the user's new message (what routing reads) and the rest.
export interface ConvertedChat {
  readonly message: string;
  readonly images: readonly string[];
  readonly conversation: readonly ChatMessage[];
  readonly generation: GenerationOptions;
}

type WorkflowDeps = { readonly workflows: WorkflowService; readonly store: Store };

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

// The pipeline input for a request naming `model`; `auto` routes by the user's text, so it needs some
// (`field` names where the API carries that text).
export function chatInputOf(
  models: ModelClient,
  model: string,
  converted: ConvertedChat,
  field: string,
): ChatInput {
  const target = resolveTarget(models, model);
  if (target.kind === "auto" && converted.message.trim() === "") {
    throw invalidRequest(field, "model auto needs a user message with text to route by");
  }
  return {
    message: converted.message,
    images: converted.images,
    conversation: converted.conversation,
    target,
    generation: converted.generation,
  };
}

// A stream's continuation after the model's own answer: the finished workflow's text, if the reply
// started one.
export function continueWithWorkflow(
  deps: WorkflowDeps,
): (done: ChatReply) => Promise<{ text: string; usage: Usage } | undefined> {
  return async (done) => {
    if (!done.workflowId) return undefined;
    const finished = await finishedWorkflow(deps, done.workflowId);
    return { text: `\n\n${finished.text}`, usage: finished.usage };
  };
}

// The finished workflow of a non-streamed reply, if it started one, and the tokens of both together.
export async function replyWithWorkflow(
  deps: WorkflowDeps,
  done: ChatReply,
): Promise<{
  finished: { text: string; usage: Usage } | undefined;
  promptTokens: number;
  completionTokens: number;
  // Both together, prompt-cache counts included.
  tokens: TokenUsage;
}> {
  const finished = done.workflowId ? await finishedWorkflow(deps, done.workflowId) : undefined;
  const tokens = finished ? addTokens(done.usage, finished.usage) : addTokens(done.usage, zeroUsage);
  return { finished, promptTokens: tokens.promptTokens, completionTokens: tokens.completionTokens, tokens };
}

// An H request's answer comes from its background workflow; the OpenAI API waits for it.
export async function finishedWorkflow(
  deps: WorkflowDeps,
  workflowId: string,
): Promise<{ text: string; usage: Usage }> {
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
    usage: run.usage ?? zeroUsage,
  };
}

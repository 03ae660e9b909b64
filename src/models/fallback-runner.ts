import type { Logger } from "pino";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import { addTokens } from "../core/usage.ts";
import type { ChatResult, ChatStreamEvent } from "../providers/chat-provider.ts";

// One thing a role call may try, in order: the model (and, with deployments, the provider) it goes to.
export interface Candidate {
  readonly model: string;
}

export interface FallbackRun<C extends Candidate> {
  readonly role: string;
  // What to try, in order; read lazily, so a later candidate can depend on how the earlier ones failed.
  readonly candidates: Iterable<C>;
  readonly signal?: AbortSignal | undefined;
  readonly logger?: Logger | undefined;
  // One guarded try at `candidate`, as a stream (a plain call yields its done event only). `atLeast`: the
  // output room a retry after a cut-off empty answer needs.
  open(candidate: C, atLeast: number | undefined): AsyncIterable<ChatStreamEvent>;
  // The room to ask for after `cutOff`, an empty answer stopped by the length limit.
  moreRoom(candidate: C, cutOff: ChatResult): number;
  // Whether a failure at `candidate` lets the run go on to the next one (see worthFallingBack).
  goOn?(error: OrchestratorError, candidate: C): boolean;
}

// What the run yields: the candidate's events as they arrive, then the answer with the candidate that gave it.
export type RunEvent<C> =
  | { readonly type: "delta"; readonly text: string; readonly candidate: C }
  | { readonly type: "tool_call_delta"; readonly deltas: readonly unknown[]; readonly candidate: C }
  | { readonly type: "done"; readonly result: ChatResult; readonly candidate: C };

// Codes that mean the whole account is refused: another model behind the same key would fail the same way,
// and a spending cap, which applies to every model.
const accountWideFailures = new Set(["upstream_auth_failed", "upstream_payment_required", "budget_exceeded"]);

export function worthFallingBack(error: OrchestratorError, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  return error.kind !== "logical" && !accountWideFailures.has(error.code);
}

export function isAccountWide(error: OrchestratorError): boolean {
  return accountWideFailures.has(error.code);
}

// The one fallback loop, shared by calls and streams. Candidates are tried in order until one answers;
// a failure moves on to the next only while nothing has been passed on (a stream's first text ends the
// choice). A thinking model that spent all its room reasoning ends with no text: it is asked once more with
// twice the room, then fails rather than answer with nothing.
export async function* runWithFallbacks<C extends Candidate>(
  run: FallbackRun<C>,
): AsyncGenerator<RunEvent<C>> {
  const failures: OrchestratorError[] = [];
  for (const candidate of run.candidates) {
    let emitted = false;
    try {
      let earlier: ChatResult | undefined;
      for (;;) {
        const atLeast = earlier && run.moreRoom(candidate, earlier);
        let cutOff: ChatResult | undefined;
        for await (const event of run.open(candidate, atLeast)) {
          if (event.type !== "done") {
            emitted = true;
            yield { ...event, candidate };
            continue;
          }
          if (!emitted && emptyCutOff(event.result)) {
            if (earlier) throw emptyAnswer(run.role, candidate.model, withBothUsages(earlier, event.result));
            cutOff = event.result;
            break;
          }
          const whole = earlier ? withBothUsages(earlier, event.result) : event.result;
          yield { type: "done", result: whole, candidate };
          return;
        }
        if (!cutOff) return;
        run.logger?.warn(
          { role: run.role, model: candidate.model, completionTokens: cutOff.usage.completionTokens },
          "the model used its whole output budget on reasoning; asking again with more room",
        );
        earlier = cutOff;
      }
    } catch (raw) {
      const error = toOrchestratorError(raw);
      if (emitted) throw error;
      failures.push(error);
      const goOn = run.goOn ? run.goOn(error, candidate) : worthFallingBack(error, run.signal);
      if (!goOn) break;
      run.logger?.warn(
        { role: run.role, model: candidate.model, code: error.code },
        "model failed; trying the next fallback",
      );
    }
  }
  throw allFailed(run.role, failures);
}

// No text and no tool calls, stopped by the length limit: the room went to reasoning.
function emptyCutOff(result: ChatResult): boolean {
  return result.finishReason === "length" && result.content.trim() === "" && !result.toolCalls?.length;
}

// The later answer, carrying what both tries used (a reported cost only when both reported one).
function withBothUsages(earlier: ChatResult, later: ChatResult): ChatResult {
  const a = earlier.usage;
  const b = later.usage;
  return {
    ...later,
    usage: {
      ...addTokens(a, b),
      ...(a.reportedCostUsd !== undefined && b.reportedCostUsd !== undefined
        ? { reportedCostUsd: a.reportedCostUsd + b.reportedCostUsd }
        : {}),
    },
  };
}

function emptyAnswer(role: string, model: string, result: ChatResult): OrchestratorError {
  const { completionTokens, reasoningTokens } = result.usage;
  return new OrchestratorError({
    kind: "resource",
    code: "empty_answer",
    status: 502,
    model,
    message: `${model} spent its whole output budget on reasoning and gave no answer, even with twice the room (${completionTokens} output tokens${reasoningTokens ? `, ${reasoningTokens} of them reasoning` : ""}); raise models.${role}.maxOutputTokens or lower models.${role}.reasoning`,
  });
}

// One failure is passed on as it is; several (the role's model and its fallbacks) become one error
// that keeps the last one's kind and status and names what each model said.
function allFailed(role: string, failures: readonly OrchestratorError[]): OrchestratorError {
  const [first] = failures;
  const last = failures.at(-1);
  if (!first || !last)
    return new OrchestratorError({ kind: "fatal", code: "no_model", message: `role ${role} has no model` });
  if (failures.length === 1) return first;
  return new OrchestratorError({
    kind: last.kind,
    code: last.code,
    status: last.status,
    retryable: last.retryable,
    model: first.model,
    ...(last.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs }),
    message: `every model for role ${role} failed: ${failures.map((f) => f.message).join("; ")}`,
    cause: last,
  });
}

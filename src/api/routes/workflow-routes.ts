import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { visibleSessionId } from "../../core/session-scope.ts";
import { TurnSlices } from "../../core/turn-slices.ts";
import { type Usage, zeroUsage } from "../../core/usage.ts";
import { type RunRecord, runStatuses, type TaskRecord, taskStatuses } from "../../store/store.ts";
import { usageOfTasks } from "../../workflows/run-rules.ts";
import type { TemplateCatalog } from "../../workflows/template-catalog.ts";
import type { WorkflowEvent, WorkflowEvents } from "../../workflows/workflow-events.ts";
import { type WorkflowDefinition, workflowRequestSchema } from "../../workflows/workflow-schema.ts";
import { EventStream } from "../event-stream.ts";
import { workflowParamsSchema } from "../schemas.ts";
import type { ClientScope, Tenancy } from "../tenancy.ts";
import { parseInput } from "../validation.ts";
import { roundUsd } from "../views.ts";

// Runs are reached only through the request's client scope (see tenancy.ts), never the store directly.
export interface WorkflowRouteDeps {
  readonly tenancy: Tenancy;
  readonly templates: TemplateCatalog;
  readonly events: WorkflowEvents;
}

export const runOptionsSchema = z.object({
  async: z.enum(["true", "false"]).optional(),
  timeout_seconds: z.coerce.number().positive().max(86_400).optional(),
});

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  cost_usd: z.number(),
});
const runErrorSchema = z.object({ type: z.string(), code: z.string(), message: z.string() });

export const workflowRecordSchema = z.object({
  workflow_id: z.string(),
  kind: z.string(),
  status: z.enum(runStatuses),
  session_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  outputs: z.record(z.string(), z.string()).describe("Each completed task's output, by its output_variable"),
  tasks: z.array(
    z.object({
      stage: z.number().int(),
      stage_type: z.enum(["linear", "inline"]),
      index: z.number().int(),
      model: z.string().nullable(),
      role: z.string(),
      output_variable: z.string(),
      status: z.enum(taskStatuses),
      started_at: z.string().nullable(),
      finished_at: z.string().nullable(),
      usage: usageSchema.nullable(),
      worker: z.string().nullable(),
      error: runErrorSchema.optional(),
    }),
  ),
  usage: usageSchema,
  estimate_usd: z.number().nullable(),
  result: z.string().optional(),
  error: runErrorSchema.optional(),
  model: z.string().optional(),
});

export const workflowAcceptedSchema = z.object({
  workflow_id: z.string(),
  status: z.literal("running"),
  workflow_url: z.string(),
  estimate_usd: z.number().optional().describe("What the run is expected to cost (on a new run)"),
});

export const templatesSchema = z.object({
  templates: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      variables: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          required: z.boolean(),
          default: z.string().optional(),
        }),
      ),
      stages: z.array(z.object({ type: z.enum(["linear", "inline"]), tasks: z.array(z.string()) })),
    }),
  ),
});

// Submissions take turns: a burst of them is checked and started a few milliseconds of work per turn of the
// event loop, so that the service keeps answering (and its runs keep going) while it arrives.
const submissionSliceMs = 5;

export function registerWorkflowRoutes(app: FastifyInstance, deps: WorkflowRouteDeps): void {
  const { tenancy, templates } = deps;
  const submissions = new TurnSlices(submissionSliceMs);

  // Runs the workflow; waits for it unless "async": true, in which case 202 comes back at once.
  const run = async (
    request: FastifyRequest,
    reply: FastifyReply,
    definition: WorkflowDefinition,
    isAsync: boolean,
    timeoutSeconds?: number,
  ) => {
    const scope = tenancy.of(request);
    const { id, estimateUsd } = await scope.submitRun(definition, { timeoutSeconds });
    if (isAsync)
      return reply.status(202).send({
        workflow_id: id,
        status: "running",
        workflow_url: `/workflow/${id}`,
        estimate_usd: roundUsd(estimateUsd),
      });
    await scope.waitForSubmitted(id);
    return reply.send(await workflowView(scope, id));
  };

  app.post("/workflow", async (request, reply) => {
    await submissions.wait();
    const body = parseInput(workflowRequestSchema, request.body);
    return run(
      request,
      reply,
      { stages: body.workflow, variables: body.variables ?? {} },
      body.async === true,
      body.timeout_seconds,
    );
  });

  app.get(
    "/templates",
    async (): Promise<z.output<typeof templatesSchema>> => ({
      templates: templates.list().map((t) => ({
        name: t.name,
        description: t.description,
        variables: t.variables,
        stages: t.stages.map((stage) => ({
          type: stage.type,
          tasks: stage.tasks.map((task) => task.output_variable),
        })),
      })),
    }),
  );

  // The body holds the template's variables; ?async=true and ?timeout_seconds=N control the run.
  app.post<{ Params: { name: string } }>("/template/:name", async (request, reply) => {
    await submissions.wait();
    const options = parseInput(runOptionsSchema, request.query, "query");
    const body = request.body ?? {};
    const given = parseInput(z.record(z.string(), z.unknown()), body);
    const definition = templates.instantiate(request.params.name, given);
    return run(request, reply, definition, options.async === "true", options.timeout_seconds);
  });

  app.get("/workflow/:id", async (request) => {
    const { id } = parseInput(workflowParamsSchema, request.params, "path");
    return workflowView(tenancy.of(request), id);
  });

  app.delete("/workflow/:id", async (request, reply) => {
    const { id } = parseInput(workflowParamsSchema, request.params, "path");
    const scope = tenancy.of(request);
    const { cancelled, run: record } = await scope.cancelRun(id);
    if (!cancelled) {
      return reply.status(409).send({
        error: {
          type: "logical",
          code: "not_running",
          message: `workflow ${id} is ${record.status}, not running`,
          retryable: false,
        },
      });
    }
    return workflowView(scope, id);
  });

  app.post("/workflow/:id/resume", async (request, reply) => {
    const { id } = parseInput(workflowParamsSchema, request.params, "path");
    await tenancy.of(request).resumeRun(id);
    return reply.status(202).send({ workflow_id: id, status: "running", workflow_url: `/workflow/${id}` });
  });

  // Server-sent events: what already happened (from the store), then live events until the run ends.
  app.get("/workflow/:id/events", async (request, reply) => {
    const { id } = parseInput(workflowParamsSchema, request.params, "path");
    const live: WorkflowEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = deps.events.subscribe(id, (event) => {
      live.push(event);
      wake?.();
    });
    // One close listener for the whole stream (one per wait would pile up on a long run).
    const onClose = () => wake?.();
    reply.raw.once("close", onClose);
    try {
      const { run: record, tasks } = await tenancy.of(request).runWithTasks(id);
      // Live events that came while the run was being read may be in what was read as well: those are
      // not sent twice.
      let beforeRead = live.length;
      const replayed = new Set<string>();
      const stream = new EventStream(reply, {});
      for (const event of [...replayPlan(record), ...tasks.flatMap(replay)]) {
        replayed.add(eventKey(event));
        await stream.sendEvent(event.type, eventView(event));
      }
      let finished = record.status !== "running";
      if (finished) await stream.sendEvent("workflow_finished", { workflow_id: id, status: record.status });
      while (!finished && !stream.closed) {
        const event = live.shift();
        if (!event) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (stream.closed) resolve();
          });
          continue;
        }
        const duringRead = beforeRead > 0;
        beforeRead = Math.max(0, beforeRead - 1);
        if (duringRead && replayed.has(eventKey(event))) continue;
        await stream.sendEvent(event.type, eventView(event));
        finished = event.type === "workflow_finished";
      }
      stream.end();
      return reply;
    } finally {
      reply.raw.off("close", onClose);
      unsubscribe();
    }
  });
}

async function workflowView(scope: ClientScope, id: string) {
  const { run, tasks } = await scope.runWithTasks(id);
  return runView(run, tasks);
}

export function runView(run: RunRecord, tasks: readonly TaskRecord[]): z.output<typeof workflowRecordSchema> {
  const definition = run.workflow as WorkflowDefinition | null;
  const byPosition = new Map(tasks.map((t) => [`${t.stage}:${t.index}`, t]));
  // Every task of the workflow, including those not started yet ("waiting").
  const taskViews = (definition?.stages ?? []).flatMap((stage, stageIndex) =>
    stage.tasks.map((task, index) => {
      const stored = byPosition.get(`${stageIndex}:${index}`);
      return {
        stage: stageIndex,
        stage_type: stage.type,
        index,
        model: stored?.model ?? null,
        role: stored?.role ?? task.model,
        output_variable: task.output_variable,
        status: stored?.status ?? "waiting",
        started_at: stored?.startedAt ?? null,
        finished_at: stored?.finishedAt ?? null,
        usage: stored?.usage ? usageView(stored.usage) : null,
        worker: stored?.worker ?? null,
        ...(stored?.error ? { error: stored.error } : {}),
      };
    }),
  );
  const outputs = Object.fromEntries(
    tasks.flatMap((t) =>
      t.status === "completed" && t.output !== null ? [[t.outputVariable, t.output]] : [],
    ),
  );
  const spent = usageOfTasks(tasks);
  return {
    workflow_id: run.id,
    kind: run.kind,
    status: run.status,
    session_id: visibleSessionId(run.sessionId),
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    finished_at: run.finishedAt,
    outputs,
    tasks: taskViews,
    usage: usageView(run.usage ?? spent),
    estimate_usd: run.estimateUsd === null ? null : roundUsd(run.estimateUsd),
    ...(run.result === null ? {} : { result: run.result }),
    ...(run.error === null ? {} : { error: run.error }),
    ...(run.model === null ? {} : { model: run.model }),
  };
}

function usageView(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    cost_usd: roundUsd(usage.costUsd),
  };
}

// An H run's plan, once stored: a client that connects after planning still sees it first.
function replayPlan(run: RunRecord): WorkflowEvent[] {
  const stages = (run.workflow as WorkflowDefinition | null)?.stages;
  if (run.kind !== "chat" || !stages) return [];
  return [{ type: "plan_ready", workflowId: run.id, stages: stages.length, at: run.updatedAt }];
}

function eventKey(event: WorkflowEvent): string {
  return "stage" in event ? `${event.type}:${event.stage}:${event.index}` : event.type;
}

function replay(task: TaskRecord): WorkflowEvent[] {
  const base = { workflowId: task.runId, stage: task.stage, index: task.index };
  const started: WorkflowEvent = {
    type: "task_started",
    ...base,
    role: task.role,
    model: task.model ?? "",
    at: task.startedAt ?? "",
  };
  if (task.status === "completed") {
    return [
      started,
      {
        type: "task_completed",
        ...base,
        outputVariable: task.outputVariable,
        usage: task.usage ?? zeroUsage,
        at: task.finishedAt ?? "",
      },
    ];
  }
  if (task.error)
    return [started, { type: "task_failed", ...base, error: task.error, at: task.finishedAt ?? "" }];
  return [started];
}

function eventView(event: WorkflowEvent): Record<string, unknown> {
  const view: Record<string, unknown> = { workflow_id: event.workflowId, at: event.at };
  for (const [key, value] of Object.entries(event)) {
    if (key === "workflowId" || key === "type" || key === "at") continue;
    const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    view[snake] = key === "usage" ? usageView(value as Usage) : value;
  }
  return view;
}

import { OrchestratorError } from "../core/errors.ts";
import type { ModelCatalog } from "../models/model-catalog.ts";
import type { ModelClient, RoleCallResult } from "../models/model-client.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import { estimateWorkflowCostUsd } from "./estimate-cost.ts";
import { findWorkflowProblems, type WorkflowLimits, type WorkflowProblem } from "./validate-workflow.ts";
import { type WorkflowDefinition, workflowStagesSchema } from "./workflow-schema.ts";

export interface PlanOutcome {
  readonly definition: WorkflowDefinition;
  readonly calls: readonly RoleCallResult[];
}

export interface PlannerDeps {
  readonly models: ModelClient;
  readonly addons: Readonly<Record<string, { readonly description: string }>>;
  readonly role: string;
  readonly limits: WorkflowLimits;
  // orchestration.planner.maxTasks and orchestration.maxRunCostUsd (0: no cap), enforced on every plan.
  readonly maxTasks: number;
  readonly maxRunCostUsd: number;
  // How long a generated video is (providers.google_ai.videoSeconds), which it is priced by.
  readonly videoSeconds: number;
}

// The planner model turns an H request into a workflow. Its JSON is extracted and validated like any
// client's workflow; an invalid plan gets one repair round-trip with the problems spelled out.
export async function planWorkflow(
  deps: PlannerDeps,
  request: string,
  options: { signal: AbortSignal; deadline: number },
): Promise<PlanOutcome> {
  const messages: ChatMessage[] = [
    { role: "system", content: plannerPrompt(deps) },
    { role: "user", content: `Request:\n${request}` },
  ];
  const call = (conversation: ChatMessage[]) =>
    deps.models.call(deps.role, {
      messages: conversation,
      purpose: "plan",
      responseFormat: { type: "json_object" },
      signal: options.signal,
      deadline: options.deadline,
    });
  const first = await call(messages);
  const attempt = readPlan(first.content, request, deps);
  if (attempt.definition) return { definition: attempt.definition, calls: [first] };
  const repair = await call([
    ...messages,
    { role: "assistant", content: first.content },
    {
      role: "user",
      content: `That plan cannot run: ${attempt.problem}. Answer again with the corrected JSON only.`,
    },
  ]);
  const second = readPlan(repair.content, request, deps);
  if (second.definition) return { definition: second.definition, calls: [first, repair] };
  throw new OrchestratorError({
    kind: "logical",
    code: "invalid_plan",
    status: 502,
    message: `the planner did not produce a valid workflow, even after one correction: ${second.problem}`,
  });
}

function readPlan(
  answer: string,
  request: string,
  deps: PlannerDeps,
): { definition?: WorkflowDefinition; problem?: string } {
  const json = extractJson(answer);
  if (json === undefined) return { problem: "the answer holds no JSON object" };
  const stages = Array.isArray(json) ? json : (json as { workflow?: unknown }).workflow;
  const parsed = workflowStagesSchema.safeParse(stages);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      problem: `workflow${issue?.path.map((p) => `[${String(p)}]`).join("") ?? ""}: ${issue?.message}`,
    };
  }
  const definition = { stages: parsed.data, variables: { request } };
  const problems = [
    ...findWorkflowProblems(definition, deps.models.catalog, deps.addons, deps.limits),
    ...planLimitProblems(definition, deps),
  ];
  if (problems.length > 0) return { problem: problems.map((p) => `${p.path}: ${p.message}`).join("; ") };
  return { definition };
}

// What the prompt tells the planner, enforced: the task count, the roles it was offered, the cost cap.
function planLimitProblems(definition: WorkflowDefinition, deps: PlannerDeps): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const offered = new Set(plannerRoles(deps.models.catalog).map(([name]) => name));
  const tasks = definition.stages.flatMap((stage, s) =>
    stage.tasks.map((task, i) => ({ task, path: `workflow[${s}].tasks[${i}]` })),
  );
  if (tasks.length > deps.maxTasks) {
    problems.push({ path: "workflow", message: `has ${tasks.length} tasks; use at most ${deps.maxTasks}` });
  }
  for (const { task, path } of tasks) {
    if (deps.models.catalog.resolve(task.model) && !offered.has(task.model)) {
      problems.push({
        path: `${path}.model`,
        message: `'${task.model}' is not one of the model roles offered`,
      });
    }
  }
  const estimate = estimateWorkflowCostUsd(definition, deps.models.catalog, deps.videoSeconds);
  if (deps.maxRunCostUsd > 0 && estimate > deps.maxRunCostUsd) {
    problems.push({
      path: "workflow",
      message: `would cost about $${estimate.toFixed(2)}, more than the $${deps.maxRunCostUsd} a request may cost; use fewer or cheaper tasks (video costs the most)`,
    });
  }
  return problems;
}

// The roles the planner may use: every chat, image and video role but the categorizer, and their aliases.
function plannerRoles(catalog: ModelCatalog): Array<readonly [string, string]> {
  const roles = catalog
    .roles()
    .filter(
      ([role, d]) =>
        role !== "categorizer_ai" && (d.kind === "chat" || d.kind === "image" || d.kind === "video"),
    );
  const offered = new Set(roles.map(([role]) => role));
  const aliases = catalog
    .aliases()
    .filter(([, target]) => offered.has(target))
    .map(([alias, target]) => [alias, `the same model as ${target}`] as const);
  return [...roles.map(([role, d]) => [role, d.description] as const), ...aliases];
}

// Models wrap JSON in prose, code fences or reasoning; take the outermost object or array.
export function extractJson(text: string): unknown {
  const cleaned = text.replace(/<think>[\s\S]*?<\/think>/gi, "").replace(/```(?:json)?/gi, "");
  const start = cleaned.search(/[[{]/);
  if (start === -1) return undefined;
  const close = cleaned[start] === "{" ? "}" : "]";
  const end = cleaned.lastIndexOf(close);
  if (end <= start) return undefined;
  try {
    return JSON.parse(cleaned.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

function plannerPrompt(deps: PlannerDeps): string {
  const roles = plannerRoles(deps.models.catalog)
    .map(([role, description]) => `- ${role}: ${description}`)
    .join("\n");
  const costCap =
    deps.maxRunCostUsd > 0
      ? ` The whole workflow must cost less than $${deps.maxRunCostUsd}: a video costs far more than text.`
      : "";
  const addonList = Object.entries(deps.addons)
    .map(([name, addon]) => `- ${name}: ${addon.description}`)
    .join("\n");
  return `You are the planner of an AI orchestration service. Turn the user's request into a workflow that specialised models carry out. Answer with JSON only, in this shape:
{"workflow": [{"type": "linear", "tasks": [{"model": "research_ai", "prompt": "...", "output_variable": "research", "config": {"addons": ["research"]}}]}, {"type": "inline", "tasks": [...]}]}

Rules:
- Stages run in order. The tasks of a "linear" stage run at the same time and cannot use each other's outputs; the tasks of an "inline" stage run one after another.
- A prompt may use {request} for the user's request, and {name} for the output of a task in an earlier stage or earlier in the same inline stage. Write {{ and }} for literal braces.
- Every output_variable is unique and made of letters, digits and _.
- Use 2 to ${Math.min(8, deps.maxTasks)} tasks, never more than ${deps.maxTasks}, and only the model roles listed below.${costCap} Put independent work in linear stages. Each prompt must be complete on its own: say exactly what to produce.
- image_generation_ai and video_generation_ai take a visual description as their prompt and produce a file; their output is its URL.
- A later model writes the final answer from all outputs, so the tasks produce the deliverables themselves.

Model roles:
${roles}

Prompt addons (optional, by name, in a task's config.addons):
${addonList}`;
}

import { OrchestratorError } from "../core/errors.ts";
import type { ModelCatalog } from "../models/model-catalog.ts";
import { interpolatedLength, referencedVariables } from "./interpolate.ts";
import { outputCharsBound, promptCharLimit } from "./prompt-size.ts";
import { type WorkflowDefinition, workflowLimits } from "./workflow-schema.ts";

export interface WorkflowProblem {
  readonly path: string;
  readonly message: string;
}

export interface WorkflowLimits {
  // The longest prompt a task may send once its variables are filled in.
  readonly maxPromptChars: number;
}

// Checks what a schema cannot: roles and addons exist, every {variable} has a value by the time its task
// runs, no output name is used twice, and no prompt can grow past its limit once filled in (a client's
// variables count at their length, an earlier task's output at its max output tokens). Returns every
// problem, each naming the stage and task.
export function findWorkflowProblems(
  definition: WorkflowDefinition,
  catalog: ModelCatalog,
  addons: Readonly<Record<string, unknown>>,
  // Absent: sizes are not checked (a template's, which depend on the values a client gives it later).
  limits?: WorkflowLimits,
): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const known = new Set(Object.keys(definition.variables));
  const worstLength = new Map(Object.entries(definition.variables).map(([name, v]) => [name, v.length]));
  const producedBy = new Map<string, string>();
  let total = 0;
  definition.stages.forEach((stage, stageIndex) => {
    const producedHere: string[] = [];
    stage.tasks.forEach((task, taskIndex) => {
      total++;
      const path = `workflow[${stageIndex}].tasks[${taskIndex}]`;
      const role = catalog.resolve(task.model);
      if (!role) problems.push({ path: `${path}.model`, message: `unknown model role '${task.model}'` });
      else if (role.definition.kind === "embedding") {
        problems.push({
          path: `${path}.model`,
          message: `'${task.model}' makes embeddings, which no workflow task can use; pick a chat, image or video role`,
        });
      }
      for (const addon of task.config?.addons ?? []) {
        if (!(addon in addons))
          problems.push({ path: `${path}.config.addons`, message: `unknown addon '${addon}'` });
      }
      for (const name of referencedVariables(task.prompt)) {
        if (known.has(name)) continue;
        const sibling = producedHere.includes(name) || stage.tasks.some((t) => t.output_variable === name);
        const hint =
          sibling && stage.type === "linear"
            ? " (it is produced in the same linear stage, whose tasks run at the same time; move this task to a later stage)"
            : sibling
              ? " (it is produced later in this stage)"
              : " (it is neither given in variables nor produced by an earlier task; write {{ and }} for literal braces)";
        problems.push({ path: `${path}.prompt`, message: `uses {${name}}, which has no value yet${hint}` });
      }
      if (role && limits) {
        const maxTokens = task.config?.max_tokens;
        const chars = interpolatedLength(task.prompt, (variable) => worstLength.get(variable));
        const limit = promptCharLimit(role.definition, maxTokens, limits.maxPromptChars);
        if (chars > limit.chars)
          problems.push({
            path: `${path}.prompt`,
            message: `can grow to ${chars} characters once its variables are filled in; at most ${limit.chars} are allowed (${limit.reason})`,
          });
      }
      const name = task.output_variable;
      if (role) worstLength.set(name, outputCharsBound(role.definition, task.config?.max_tokens));
      const clash =
        producedBy.get(name) ?? (name in definition.variables ? "the given variables" : undefined);
      if (clash)
        problems.push({
          path: `${path}.output_variable`,
          message: `'${name}' is already produced by ${clash}`,
        });
      producedBy.set(name, path);
      producedHere.push(name);
      if (stage.type === "inline") known.add(name);
    });
    for (const name of producedHere) known.add(name);
  });
  if (total > workflowLimits.tasks) {
    problems.push({
      path: "workflow",
      message: `has ${total} tasks; at most ${workflowLimits.tasks} are allowed`,
    });
  }
  return problems;
}

export function assertValidWorkflow(
  definition: WorkflowDefinition,
  catalog: ModelCatalog,
  addons: Readonly<Record<string, unknown>>,
  limits?: WorkflowLimits,
): void {
  const problems = findWorkflowProblems(definition, catalog, addons, limits);
  const first = problems[0];
  if (!first) return;
  throw new OrchestratorError({
    kind: "logical",
    code: "invalid_workflow",
    status: 400,
    field: first.path,
    message: problems.map((p) => `${p.path}: ${p.message}`).join("; "),
  });
}

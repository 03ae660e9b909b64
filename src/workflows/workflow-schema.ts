import { z } from "zod";
import { modelIdSchema } from "../models/model-id.ts";

// The spec's workflow format: stages run in order; a "linear" stage runs its tasks at the same time,
// an "inline" stage one after another. `{name}` in a prompt is a variable; `{{` and `}}` are literal braces.

export const workflowLimits = {
  stages: 50,
  tasksPerStage: 50,
  tasks: 200,
  promptChars: 200_000,
  variableChars: 1_000_000,
} as const;

export const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const taskSchema = z.object({
  model: modelIdSchema("is required: a model role such as thinking_ai"),
  prompt: z
    .string({ error: "is required" })
    .min(1, "must not be empty")
    .max(workflowLimits.promptChars, `must be at most ${workflowLimits.promptChars} characters`),
  output_variable: z
    .string({ error: "is required: the name under which the task's output is kept" })
    .regex(variableName, "must be a name of letters, digits and _ that does not start with a digit"),
  // Strict, so a misspelt setting (max_token) is refused rather than silently ignored.
  config: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional(),
      max_tokens: z.number().int().positive().max(1_000_000).optional(),
      addons: z.array(z.string()).max(20, "at most 20 addons per task").optional(),
    })
    .optional(),
});

export const stageSchema = z.object({
  type: z.enum(["linear", "inline"], { error: 'must be "linear" (parallel) or "inline" (sequential)' }),
  tasks: z
    .array(taskSchema, { error: "is required: an array of tasks" })
    .min(1, "must hold at least one task")
    .max(workflowLimits.tasksPerStage, `at most ${workflowLimits.tasksPerStage} tasks per stage`),
});

export const variablesSchema = z.record(
  z.string().regex(variableName, "variable names are letters, digits and _"),
  z
    .union([z.string(), z.number(), z.boolean()], {
      error: "variable values are strings, numbers or booleans",
    })
    .transform(String)
    .refine((value) => value.length <= workflowLimits.variableChars, "is too long"),
);

export const workflowStagesSchema = z
  .array(stageSchema, { error: "is required: an array of stages" })
  .min(1, "must hold at least one stage")
  .max(workflowLimits.stages, `at most ${workflowLimits.stages} stages`);

export const workflowRequestSchema = z.strictObject({
  workflow: workflowStagesSchema,
  variables: variablesSchema.optional(),
  async: z.boolean().optional(),
  timeout_seconds: z.number().positive().max(86_400).optional(),
});

export type WorkflowTask = z.output<typeof taskSchema>;
export type WorkflowStage = z.output<typeof stageSchema>;
export type WorkflowRequest = z.output<typeof workflowRequestSchema>;

export interface WorkflowDefinition {
  readonly stages: readonly WorkflowStage[];
  readonly variables: Readonly<Record<string, string>>;
}

import type { ModelCatalog } from "../models/model-catalog.ts";
import { interpolatedLength } from "./interpolate.ts";
import { charsPerToken, outputCharsBound } from "./prompt-size.ts";
import type { WorkflowDefinition } from "./workflow-schema.ts";

// What the worker system prompt and addons add to each chat task's input, roughly.
const systemPromptTokens = 200;

// The most a workflow should cost, before it runs: per chat task, its role's price for the prompt at its
// worst-case size plus the task's max output tokens; per image, the image price; per video, the price per
// second times the video's length. Fallbacks and retries are not counted: this is one pass of the plan.
export function estimateWorkflowCostUsd(
  definition: WorkflowDefinition,
  catalog: ModelCatalog,
  videoSeconds: number,
): number {
  const worstLength = new Map(Object.entries(definition.variables).map(([name, v]) => [name, v.length]));
  let total = 0;
  for (const stage of definition.stages) {
    for (const task of stage.tasks) {
      const role = catalog.resolve(task.model);
      if (!role) continue;
      const { definition: model } = role;
      const { pricing } = model;
      if (model.kind === "image") total += pricing.perImage ?? 0;
      else if (model.kind === "video") total += (pricing.perVideoSecond ?? 0) * videoSeconds;
      else {
        const promptChars = interpolatedLength(task.prompt, (name) => worstLength.get(name));
        const promptTokens = Math.ceil(promptChars / charsPerToken) + systemPromptTokens;
        const outputTokens = Math.min(
          task.config?.max_tokens ?? model.maxOutputTokens,
          model.maxOutputTokens,
        );
        total +=
          (promptTokens * pricing.inputPerMillion + outputTokens * pricing.outputPerMillion) / 1_000_000;
      }
      // A linear stage's siblings cannot use each other's outputs (validation refuses it), so setting the
      // bound at once is the same as after the stage.
      worstLength.set(task.output_variable, outputCharsBound(model, task.config?.max_tokens));
    }
  }
  return total;
}

import type { TemplateDefinition } from "../config/index.ts";
import { configError } from "../config/load-config.ts";
import { invalidRequest, notFound } from "../core/errors.ts";
import { type WorkflowDefinition, type WorkflowStage, workflowStagesSchema } from "./workflow-schema.ts";
import type { WorkflowService } from "./workflow-service.ts";

export interface Template {
  readonly name: string;
  readonly description: string;
  readonly variables: TemplateDefinition["variables"];
  readonly stages: readonly WorkflowStage[];
}

// The workflow templates, checked once at start-up like any workflow: a broken template stops the
// server with a message naming it, instead of failing the first user who picks it.
export class TemplateCatalog {
  readonly #templates = new Map<string, Template>();

  constructor(definitions: Readonly<Record<string, TemplateDefinition>>, workflows: WorkflowService) {
    const problems: string[] = [];
    for (const [name, definition] of Object.entries(definitions)) {
      const parsed = workflowStagesSchema.safeParse(definition.workflow);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        problems.push(`templates.${name}.workflow.${issue?.path.join(".")}: ${issue?.message}`);
        continue;
      }
      const sample = Object.fromEntries(definition.variables.map((v) => [v.name, "x"]));
      try {
        // Prompt sizes depend on the values a client gives; they are checked when the template is run.
        workflows.assertValid({ stages: parsed.data, variables: sample }, { checkSizes: false });
      } catch (error) {
        problems.push(`templates.${name}: ${(error as Error).message}`);
        continue;
      }
      this.#templates.set(name, {
        name,
        description: definition.description,
        variables: definition.variables,
        stages: parsed.data,
      });
    }
    if (problems.length > 0) throw configError("templates", problems);
  }

  list(): Template[] {
    return [...this.#templates.values()];
  }

  // Fills the template's variables from the request: a missing required one is a 400 that names it.
  instantiate(name: string, given: Readonly<Record<string, unknown>>): WorkflowDefinition {
    const template = this.#templates.get(name);
    if (!template) throw notFound("template", name);
    const known = new Set(template.variables.map((v) => v.name));
    for (const key of Object.keys(given)) {
      if (!known.has(key)) {
        throw invalidRequest(key, `is not a variable of template ${name}; it takes ${[...known].join(", ")}`);
      }
    }
    const variables: Record<string, string> = {};
    for (const variable of template.variables) {
      const value = given[variable.name];
      if (value === undefined || value === null || value === "") {
        if (variable.default !== undefined) variables[variable.name] = variable.default;
        else if (variable.required) {
          throw invalidRequest(
            variable.name,
            `is required by template ${name}${variable.description ? ` (${variable.description})` : ""}`,
          );
        } else variables[variable.name] = "";
        continue;
      }
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        throw invalidRequest(variable.name, "must be a string");
      }
      variables[variable.name] = String(value);
    }
    return { stages: template.stages, variables };
  }
}

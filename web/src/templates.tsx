import { useEffect, useState } from "preact/hooks";
import { getJson, postJson } from "./api.ts";
import { renderMarkdown } from "./format.ts";
import type { TemplateView, WorkflowRecord } from "./types.ts";
import { WorkflowOutputs, WorkflowProgress } from "./workflow-progress.tsx";

// Workflow templates: pick one, fill in its variables, run it and watch it.
export function Templates() {
  const [templates, setTemplates] = useState<readonly TemplateView[]>([]);
  const [selected, setSelected] = useState<string>("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [running, setRunning] = useState<string | undefined>();
  const [record, setRecord] = useState<WorkflowRecord | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    getJson<{ templates: TemplateView[] }>("/templates").then(
      (body) => setTemplates(body.templates),
      (caught: Error) => setError(caught.message),
    );
  }, []);

  const template = templates.find((t) => t.name === selected);
  const choose = (name: string) => {
    const chosen = templates.find((t) => t.name === name);
    setSelected(name);
    setValues(Object.fromEntries((chosen?.variables ?? []).map((v) => [v.name, v.default ?? ""])));
    setRunning(undefined);
    setRecord(undefined);
    setError(undefined);
  };

  const run = async () => {
    if (!template) return;
    setError(undefined);
    setRecord(undefined);
    const filled = Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ""));
    try {
      const started = await postJson<{ workflow_id: string }>(
        `/template/${encodeURIComponent(template.name)}?async=true`,
        filled,
      );
      setRunning(started.workflow_id);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  return (
    <div class="panel templates">
      <h2>Workflow templates</h2>
      <label>
        Template{" "}
        <select
          value={selected}
          onChange={(event) => choose(event.currentTarget.value)}
          aria-label="template"
        >
          <option value="">choose a template…</option>
          {templates.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      {template && (
        <form
          class="template-form"
          onSubmit={(event) => {
            event.preventDefault();
            void run();
          }}
        >
          <p class="muted">{template.description}</p>
          {template.variables.map((variable) => (
            <label key={variable.name}>
              <span>
                {variable.name}
                {variable.required ? " *" : ""} <small class="muted">{variable.description}</small>
              </span>
              <input
                name={variable.name}
                value={values[variable.name] ?? ""}
                required={variable.required}
                onInput={(event) => {
                  const value = event.currentTarget.value;
                  setValues((all) => ({ ...all, [variable.name]: value }));
                }}
              />
            </label>
          ))}
          <button type="submit">Run {template.name}</button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {running && <WorkflowProgress key={running} workflowId={running} onDone={setRecord} />}
      {record && <WorkflowOutputs record={record} render={renderMarkdown} />}
    </div>
  );
}

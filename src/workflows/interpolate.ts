import { variableName } from "./workflow-schema.ts";

// `{name}` is a variable; `{{` and `}}` are literal braces; any other brace (JSON in a prompt, say) stays as it is.
const token = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function referencedVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(token)) if (match[1]) names.push(match[1]);
  return names;
}

export function interpolate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(token, (whole, name: string | undefined) => {
    if (whole === "{{") return "{";
    if (whole === "}}") return "}";
    if (name === undefined || !variableName.test(name)) return whole;
    const value = values[name];
    if (value === undefined) throw new Error(`variable {${name}} has no value`);
    return value;
  });
}

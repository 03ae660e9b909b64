import { variableName } from "./workflow-schema.ts";

// `{name}` is a variable; `{{` and `}}` are literal braces; any other brace (JSON in a prompt, say) stays as it is.
const token = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function referencedVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(token)) if (match[1]) names.push(match[1]);
  return names;
}

// The length `interpolate` would produce, computed without building the string; `lengthOf` gives each
// variable's length (or its worst case), undefined for a variable without a value (counted as 0).
export function interpolatedLength(template: string, lengthOf: (name: string) => number | undefined): number {
  let length = template.length;
  for (const match of template.matchAll(token)) {
    const name = match[1];
    length -= name === undefined ? 1 : match[0].length - (lengthOf(name) ?? 0);
  }
  return length;
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

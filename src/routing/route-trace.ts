// `/chat` answers carry the route's steps (core/trace-step.ts) as they are; the `/v1` APIs carry a compact
// form in a header.

// The header's values are chosen by the service (rule, category, role names from the config, outcome
// words), never copied from a request, and kept to a line a proxy will pass on.
const maxHeaderChars = 512;

export interface RouteSummary {
  readonly rule: string;
  readonly category: string | null;
  readonly role: string;
  // How the label was found (model, fallback, memo) and how long the categorizer took.
  readonly labelSource?: string;
  readonly categorizerMs?: number;
  readonly speculation?: "confirmed" | "refuted";
  readonly steppedUp?: boolean;
  readonly skipped?: readonly { readonly role: string; readonly reason: string }[];
  // The deployment's provider that answered, once the answer is complete (a role may run on several).
  readonly provider?: string;
}

// `rule=category; category=M; label=model; categorizer_ms=212; skipped=medium_ai:no_tools; pick=thinking_ai`
export function routeHeader(summary: RouteSummary): string {
  const parts = [`rule=${summary.rule}`];
  if (summary.category) parts.push(`category=${summary.category}`);
  if (summary.labelSource) parts.push(`label=${summary.labelSource}`);
  if (summary.categorizerMs !== undefined) parts.push(`categorizer_ms=${Math.round(summary.categorizerMs)}`);
  if (summary.speculation) parts.push(`speculation=${summary.speculation}`);
  if (summary.steppedUp) parts.push("quality=stepped_up");
  if (summary.skipped && summary.skipped.length > 0) {
    parts.push(`skipped=${summary.skipped.map((s) => `${s.role}:${s.reason}`).join(",")}`);
  }
  parts.push(`pick=${summary.role}`);
  if (summary.provider) parts.push(`provider=${summary.provider}`);
  const header = parts.join("; ").replace(/[^\x20-\x7e]/g, "?");
  return header.length <= maxHeaderChars ? header : `${header.slice(0, maxHeaderChars - 3)}...`;
}

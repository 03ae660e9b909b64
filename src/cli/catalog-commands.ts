import type { ApiClient } from "./api-client.ts";
import { formatUsd, type Output, table } from "./output.ts";

interface ModelsBody {
  readonly models: ReadonlyArray<{
    readonly role: string;
    readonly provider: string;
    readonly model: string;
    readonly kind: string;
    readonly pricing: {
      readonly input_per_million_usd: number;
      readonly output_per_million_usd: number;
      readonly per_image_usd?: number;
      readonly per_video_second_usd?: number;
    };
  }>;
}

interface AddonsBody {
  readonly addons: ReadonlyArray<{
    readonly name: string;
    readonly category: string;
    readonly description: string;
  }>;
}

interface StatsBody {
  readonly window: { readonly since: string };
  readonly requests: { readonly total: number; readonly by_category: Record<string, number> };
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly role: string;
    readonly calls: number;
    readonly errors: number;
    readonly cost_usd: number;
    readonly latency_ms: { readonly p50: number; readonly p95: number } | null;
  }>;
  readonly cost: { readonly total_usd: number };
  readonly savings: {
    readonly baseline_role: string;
    readonly baseline_usd: number;
    readonly saved_usd: number;
    readonly saved_percent: number | null;
  };
  readonly cache_hits: number;
}

const print = (output: Output, json: boolean, body: unknown, human: () => string) =>
  output.result(json ? `${JSON.stringify(body, null, 2)}\n` : human());

export async function listModels(client: ApiClient, output: Output, json: boolean): Promise<void> {
  const body = await client.get<ModelsBody>("/models");
  print(output, json, body, () =>
    table(
      ["role", "kind", "model", "price"],
      body.models.map((m) => [m.role, m.kind, m.model, priceOf(m.pricing)]),
    ),
  );
}

export async function listAddons(client: ApiClient, output: Output, json: boolean): Promise<void> {
  const body = await client.get<AddonsBody>("/addons");
  print(output, json, body, () =>
    table(
      ["name", "category", "description"],
      body.addons.map((a) => [a.name, a.category, a.description]),
    ),
  );
}

export async function showStats(
  client: ApiClient,
  output: Output,
  json: boolean,
  since?: string,
): Promise<void> {
  const body = await client.get<StatsBody>(`/stats${since ? `?since=${encodeURIComponent(since)}` : ""}`);
  print(output, json, body, () => {
    const categories = Object.entries(body.requests.by_category)
      .map(([category, n]) => `${category} ${n}`)
      .join(", ");
    const saved = body.savings.saved_percent === null ? "-" : `${body.savings.saved_percent}%`;
    return [
      `since ${body.window.since}: ${body.requests.total} requests (${categories || "none"}), ${body.cache_hits} cache hits`,
      `cost ${formatUsd(body.cost.total_usd)}; on ${body.savings.baseline_role} it would have been ${formatUsd(body.savings.baseline_usd)}: saved ${formatUsd(body.savings.saved_usd)} (${saved})`,
      "",
      table(
        ["model", "role", "calls", "errors", "p50 ms", "p95 ms", "cost"],
        body.models.map((m) => [
          m.model,
          m.role,
          String(m.calls),
          String(m.errors),
          m.latency_ms ? String(m.latency_ms.p50) : "-",
          m.latency_ms ? String(m.latency_ms.p95) : "-",
          formatUsd(m.cost_usd),
        ]),
      ),
    ].join("\n");
  });
}

function priceOf(pricing: ModelsBody["models"][number]["pricing"]): string {
  if (pricing.per_image_usd !== undefined) return `$${pricing.per_image_usd} per image`;
  if (pricing.per_video_second_usd !== undefined) return `$${pricing.per_video_second_usd} per video second`;
  return `$${pricing.input_per_million_usd} / $${pricing.output_per_million_usd} per M tokens`;
}

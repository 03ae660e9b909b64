import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Clock } from "../../core/clock.ts";
import { type QualitySettings, qualityFigure } from "../../quality/quality-figure.ts";
import { qualityMetricsText } from "../../quality/quality-metrics.ts";
import type { UsageStore } from "../../store/usage-store.ts";
import type { Metrics } from "../../telemetry/metrics.ts";
import { parseSince } from "../../telemetry/stats-window.ts";
import { parseInput } from "../validation.ts";

export const metricsQuerySchema = z.object({ since: z.string().max(64).optional() });

// Prometheus text format, for a scraper. The quality figure is read from the stored verdicts over the same
// ?since= window as /stats (24h by default); everything else is the process's own instruments.
export function registerMetricsRoute(
  app: FastifyInstance,
  deps: { metrics: Metrics; usage: UsageStore; clock: Clock; monitoring: QualitySettings },
): void {
  app.get("/metrics", async (request, reply) => {
    const query = parseInput(metricsQuerySchema, request.query, "query");
    const since = parseSince(query.since, deps.clock.now());
    const [{ contentType, body }, quality] = await Promise.all([
      deps.metrics.render(),
      qualityFigure(deps.usage, since, deps.monitoring),
    ]);
    return reply.type(contentType).send(body + (await qualityMetricsText(quality)));
  });
}

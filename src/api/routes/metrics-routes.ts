import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../telemetry/metrics.ts";

// Prometheus text format, for a scraper.
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}

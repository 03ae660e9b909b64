import type { FastifyInstance } from "fastify";
import type { ModelClient } from "../../models/model-client.ts";
import type { CircuitSnapshot } from "../../resilience/circuit-breaker.ts";
import type { RunRegistry } from "../../workflows/run-registry.ts";

export function circuitView(snapshot: CircuitSnapshot) {
  return {
    model: snapshot.key,
    state: snapshot.state,
    consecutive_failures: snapshot.consecutiveFailures,
    ...(snapshot.openedAt === undefined ? {} : { opened_at: new Date(snapshot.openedAt).toISOString() }),
    ...(snapshot.retryAt === undefined ? {} : { retry_at: new Date(snapshot.retryAt).toISOString() }),
  };
}

// Live state of the resilience layer: circuits per upstream model and the upstream call queue.
export function registerStatsRoutes(
  app: FastifyInstance,
  deps: { models: ModelClient; runs: RunRegistry },
): void {
  app.get("/stats", async () => {
    const { breakers, scheduler } = deps.models.resilience;
    const queue = scheduler.stats();
    return {
      circuits: breakers.snapshots().map(circuitView),
      upstream_calls: { running: queue.running, capacity: queue.capacity, waiting: queue.waiting },
      background_runs: { running: deps.runs.size },
    };
  });
}

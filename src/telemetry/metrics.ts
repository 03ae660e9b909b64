import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CircuitBreakers } from "../resilience/circuit-breaker.ts";
import type { ModelSchedulers } from "../resilience/model-schedulers.ts";
import type { LedgerEntry, RequestEntry } from "../store/usage-store.ts";
import { recordable } from "./recordable.ts";
import type { LedgerListener } from "./usage-ledger.ts";

export interface LiveState {
  readonly breakers: CircuitBreakers;
  readonly scheduler: ModelSchedulers;
  readonly runningWorkflows: () => number | Promise<number>;
  // The label a model id on a provider is counted under: pass-through ids past the tracked ones share "other".
  readonly modelLabel: (model: string, provider: string) => string;
  // With a queue: the cluster's jobs by state and its workers.
  readonly cluster?:
    | (() => Promise<{ queue: Record<string, number>; workers: readonly string[] }>)
    | undefined;
}

const circuitStateValue = { closed: 0, half_open: 1, open: 2 } as const;

// Prometheus instruments for /metrics: counters and histograms fed by the ledger and the request log,
// gauges read from the live state at scrape time. Counters start at zero with the process, as
// Prometheus expects; /stats reads the stored ledger instead and so spans restarts.
export class Metrics implements LedgerListener {
  readonly registry = new Registry();
  readonly #modelLabel: (model: string, provider: string) => string;
  readonly #requests = new Counter({
    name: "orchestrator_requests_total",
    help: "API requests by endpoint, category and HTTP status",
    labelNames: ["endpoint", "category", "status"] as const,
    registers: [this.registry],
  });
  readonly #requestDuration = new Histogram({
    name: "orchestrator_request_duration_seconds",
    help: "Time to answer an API request (until the response ends, so streams count in full)",
    labelNames: ["endpoint"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly #overhead = new Histogram({
    name: "orchestrator_overhead_seconds",
    help: "Time the service itself spent on an API request: the whole request minus the time its upstream calls were in flight (the x-orchestrator-overhead-ms header)",
    labelNames: ["endpoint"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly #calls = new Counter({
    name: "orchestrator_upstream_calls_total",
    help: "Upstream model calls (each try) by model, role, category, purpose, outcome and provider",
    labelNames: ["model", "role", "category", "purpose", "outcome", "provider"] as const,
    registers: [this.registry],
  });
  readonly #callDuration = new Histogram({
    name: "orchestrator_upstream_call_duration_seconds",
    help: "Latency of upstream model calls",
    labelNames: ["model", "role", "outcome", "provider"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320],
    registers: [this.registry],
  });
  readonly #tokens = new Counter({
    name: "orchestrator_upstream_tokens_total",
    help: "Tokens sent to (input) and received from (output) upstream models; reasoning: the part of output spent thinking; cache_read and cache_write: the part of input read from and written to the upstream's prompt cache",
    labelNames: ["model", "role", "direction", "provider"] as const,
    registers: [this.registry],
  });
  readonly #cost = new Counter({
    name: "orchestrator_cost_usd_total",
    help: "Cost of upstream calls in USD, as reported by the upstream or priced from tokens",
    labelNames: ["model", "role", "category", "provider"] as const,
    registers: [this.registry],
  });
  readonly #baseline = new Counter({
    name: "orchestrator_baseline_cost_usd_total",
    help: "What the same calls would have cost on the baseline role (monitoring.baselineRole), for the savings figure",
    registers: [this.registry],
  });
  readonly #speculations = new Counter({
    name: "orchestrator_speculations_total",
    help: "Answers started alongside the categorizer for the likely route, by whether the label confirmed or refuted them",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly #speculationCounts = { confirmed: 0, refuted: 0 };
  readonly #speculativeWaste = new Counter({
    name: "orchestrator_speculative_waste_usd_total",
    help: "Estimated cost of speculative calls the label refuted and that were aborted (also in orchestrator_cost_usd_total)",
    registers: [this.registry],
  });
  readonly #promptCacheSaved = new Counter({
    name: "orchestrator_prompt_cache_saved_usd_total",
    help: "What the upstreams' prompt caches saved in USD at the models' prices: cache reads x (input - read price), less cache writes x (write - input price), on the calls where that came out positive",
    labelNames: ["model", "role"] as const,
    registers: [this.registry],
  });
  readonly #promptCacheExtra = new Counter({
    name: "orchestrator_prompt_cache_extra_usd_total",
    help: "What prompt caching cost over the uncached price in USD, on the calls whose cache writes cost more than their reads saved; saved_usd_total minus this is the net saving",
    labelNames: ["model", "role"] as const,
    registers: [this.registry],
  });
  readonly #cacheHits = new Counter({
    name: "orchestrator_cache_hits_total",
    help: "Model calls answered from the response cache",
    labelNames: ["model", "role", "provider"] as const,
    registers: [this.registry],
  });

  readonly #escalations = new Counter({
    name: "orchestrator_escalations_total",
    help: "Answers given by a stronger role because the routed answer was unusable, by why it was",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly #shadowCost = new Counter({
    name: "orchestrator_shadow_cost_usd_total",
    help: "Cost of shadow calls (baseline answers and judgings for the quality figure), also in orchestrator_cost_usd_total",
    registers: [this.registry],
  });

  constructor(live: LiveState) {
    this.#modelLabel = live.modelLabel;
    collectDefaultMetrics({ register: this.registry, prefix: "orchestrator_" });
    new Gauge({
      name: "orchestrator_circuit_state",
      help: "Circuit breaker state per upstream deployment (a model id, or provider:model off OpenRouter): 0 closed, 1 half-open, 2 open",
      labelNames: ["model"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const circuit of live.breakers.snapshots()) {
          this.set({ model: circuit.key }, circuitStateValue[circuit.state]);
        }
      },
    });
    new Gauge({
      name: "orchestrator_upstream_queue_waiting",
      help: "Upstream calls waiting for a slot, per priority class",
      labelNames: ["priority"] as const,
      registers: [this.registry],
      collect() {
        for (const [priority, waiting] of Object.entries(live.scheduler.stats().waiting)) {
          this.set({ priority }, waiting);
        }
      },
    });
    new Gauge({
      name: "orchestrator_upstream_calls_running",
      help: "Upstream calls in flight",
      registers: [this.registry],
      collect() {
        this.set(live.scheduler.stats().running);
      },
    });
    new Gauge({
      name: "orchestrator_workflows_running",
      help: "Workflows and H requests running in this process",
      registers: [this.registry],
      async collect() {
        this.set(await live.runningWorkflows());
      },
    });
    const clusterStats = live.cluster;
    if (clusterStats) {
      // Both gauges are collected in the same scrape: they share one read of Redis.
      let reading: ReturnType<typeof clusterStats> | undefined;
      const read = () => {
        if (!reading) {
          reading = clusterStats().finally(() =>
            setImmediate(() => {
              reading = undefined;
            }),
          );
        }
        return reading;
      };
      new Gauge({
        name: "orchestrator_queue_jobs",
        help: "Jobs on the workflow queue by state (the whole cluster)",
        labelNames: ["state"] as const,
        registers: [this.registry],
        async collect() {
          for (const [state, count] of Object.entries((await read()).queue)) this.set({ state }, count);
        },
      });
      new Gauge({
        name: "orchestrator_queue_workers",
        help: "Worker processes taking jobs from the workflow queue",
        registers: [this.registry],
        async collect() {
          this.set((await read()).workers.length);
        },
      });
    }
  }

  onCall(entry: LedgerEntry): void {
    // The deployment that answered: the model id and the provider it ran on.
    const { provider, role } = entry;
    const model = this.#modelLabel(entry.model, provider);
    const category = entry.category ?? "none";
    this.#calls.inc({ model, role, category, purpose: entry.purpose, outcome: entry.outcome, provider });
    // prom-client throws on a non-finite increment: nothing recorded may fail the call it records.
    this.#baseline.inc(recordable(entry.baselineUsd));
    if (entry.shadow) this.#shadowCost.inc(recordable(entry.costUsd));
    if (entry.purpose === "speculative") this.#speculativeWaste.inc(recordable(entry.costUsd));
    if (entry.escalation && (entry.outcome === "ok" || entry.outcome === "cached")) {
      this.#escalations.inc({ reason: entry.escalation });
    }
    // A cache hit sent nothing upstream: no latency, tokens or cost to count.
    if (entry.outcome === "cached") {
      this.#cacheHits.inc({ model, role, provider });
      return;
    }
    this.#callDuration.observe(
      { model, role, outcome: entry.outcome, provider },
      recordable(entry.latencyMs) / 1000,
    );
    this.#tokens.inc({ model, role, direction: "input", provider }, recordable(entry.promptTokens));
    this.#tokens.inc({ model, role, direction: "output", provider }, recordable(entry.completionTokens));
    // Part of the output, counted again on its own so a thinking model's reasoning share is visible.
    if (entry.reasoningTokens) {
      this.#tokens.inc({ model, role, direction: "reasoning", provider }, recordable(entry.reasoningTokens));
    }
    // Parts of the input, counted again on their own so the cached share is visible.
    if (entry.cacheReadTokens) {
      this.#tokens.inc({ model, role, direction: "cache_read", provider }, recordable(entry.cacheReadTokens));
    }
    if (entry.cacheWriteTokens) {
      this.#tokens.inc(
        { model, role, direction: "cache_write", provider },
        recordable(entry.cacheWriteTokens),
      );
    }
    // A counter only goes up: a call's net saving goes to one counter or, when negative, the other.
    const cacheSaved = entry.cacheSavedUsd ?? 0;
    if (cacheSaved > 0) this.#promptCacheSaved.inc({ model, role }, recordable(cacheSaved));
    else if (cacheSaved < 0) this.#promptCacheExtra.inc({ model, role }, recordable(-cacheSaved));
    this.#cost.inc({ model, role, category, provider }, recordable(entry.costUsd));
  }

  // Trace spans that never reached the collector: the export queue was full, or the export failed. The
  // counter exists only with tracing on (a service that does not trace shows no counter stuck at zero).
  spanLossCounter(): (reason: "queue_full" | "export_failed", count: number) => void {
    const counter = new Counter({
      name: "orchestrator_trace_spans_dropped_total",
      help: "Trace spans lost before reaching the OpenTelemetry collector: queue_full (the export queue was full) or export_failed (the collector was down, slow or refused them)",
      labelNames: ["reason"] as const,
      registers: [this.registry],
    });
    counter.inc({ reason: "queue_full" }, 0);
    counter.inc({ reason: "export_failed" }, 0);
    return (reason, count) => counter.inc({ reason }, count);
  }

  onSpeculation(outcome: "confirmed" | "refuted"): void {
    this.#speculations.inc({ outcome });
    this.#speculationCounts[outcome]++;
  }

  // Speculations since this process started, for /stats.
  speculationCounts(): { readonly confirmed: number; readonly refuted: number } {
    return { ...this.#speculationCounts };
  }

  onRequest(entry: RequestEntry): void {
    this.#requests.inc({
      endpoint: entry.endpoint,
      category: entry.category ?? "none",
      status: String(entry.status),
    });
    this.#requestDuration.observe({ endpoint: entry.endpoint }, entry.latencyMs / 1000);
  }

  onOverhead(endpoint: string, overheadMs: number): void {
    this.#overhead.observe({ endpoint }, overheadMs / 1000);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

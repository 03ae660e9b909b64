import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import { processName } from "../core/process-name.ts";
import type { EventTransport, WorkflowEvent } from "../workflows/workflow-events.ts";
import { type AdvanceJobData, advanceJob, type CancelMessage, type TaskJobData } from "./jobs.ts";
import { connectRedis, connectRedisFailFast } from "./redis.ts";
import { RedisChannel } from "./redis-channel.ts";
import type { RunDriver } from "./run-driver.ts";

export type QueueStats = {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly waiting_children: number;
  readonly failed: number;
};

// The Redis side of a deployment with several processes: the workflow queue, the channels that carry
// workflow events and cancellations to every process, and the connections behind them.
export class Cluster {
  readonly queue: Queue;
  readonly cancels: RedisChannel<CancelMessage>;
  readonly events: EventTransport;
  // For shared state (circuit breakers, rate limits, cache).
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly keyPrefix: string;
  readonly #config: AppConfig["cluster"];
  readonly #url: string;
  readonly #logger: Logger;
  #worker: Worker | undefined;
  // Connections handed to BullMQ, which leaves closing them to their owner.
  readonly #owned: Redis[] = [];

  constructor(url: string, config: AppConfig["cluster"], logger: Logger) {
    this.#url = url;
    this.#config = config;
    this.#logger = logger;
    this.keyPrefix = config.keyPrefix;
    this.redis = connectRedisFailFast(url);
    this.subscriber = connectRedis(url);
    for (const connection of [this.redis, this.subscriber]) {
      connection.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
    }
    this.queue = new Queue(config.queueName, { connection: this.#connect(), prefix: config.keyPrefix });
    this.cancels = new RedisChannel<CancelMessage>({
      publisher: this.redis,
      subscriber: this.subscriber,
      name: `${config.keyPrefix}:cancels`,
      logger,
    });
    const eventChannel = new RedisChannel<WorkflowEvent>({
      publisher: this.redis,
      subscriber: this.subscriber,
      name: `${config.keyPrefix}:events`,
      logger,
    });
    this.events = {
      publish: (event) => {
        eventChannel
          .publish(event)
          .catch((error: unknown) => logger.warn({ err: error }, "could not publish an event"));
      },
      onEvent: (deliver) => {
        eventChannel.onMessage(deliver);
      },
    };
  }

  // Subscriptions are in place, so no event or cancellation published from now on is missed.
  async ready(): Promise<void> {
    // The fail-fast connection refuses commands until it is connected.
    if (this.redis.status !== "ready") await new Promise((resolve) => this.redis.once("ready", resolve));
    await Promise.all([this.cancels.ready(), this.redis.ping()]);
  }

  // Makes this process a worker: it takes run steps and tasks from the queue. `afterJob` runs before a
  // job is reported done (the cost ledger writes its rows then, so whoever sees the job done, in any
  // process, also sees what it cost).
  startWorker(driver: RunDriver, afterJob?: () => Promise<void>): Worker {
    this.cancels.onMessage(({ runId }) => driver.cancel(runId));
    const worker = new Worker<AdvanceJobData | TaskJobData>(
      this.#config.queueName,
      async (job, token) => {
        try {
          return job.name === advanceJob
            ? await driver.advance(job as Parameters<RunDriver["advance"]>[0], token ?? "")
            : await driver.task(job as Parameters<RunDriver["task"]>[0]);
        } finally {
          await afterJob?.();
        }
      },
      {
        connection: this.#connect(),
        prefix: this.#config.keyPrefix,
        name: processName(),
        concurrency: this.#config.workerConcurrency,
        lockDuration: this.#config.lockDurationMs,
        stalledInterval: this.#config.stalledIntervalMs,
        maxStalledCount: this.#config.maxStalledCount,
      },
    );
    worker.on("failed", (job, error) => {
      this.#logger.error({ err: error, job: job?.name, jobId: job?.id }, "queue job failed");
      if (job?.name === advanceJob && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        driver
          .abandon(job as Parameters<RunDriver["abandon"]>[0], error)
          .catch((failure: unknown) =>
            this.#logger.error({ err: failure }, "could not fail an abandoned run"),
          );
      }
    });
    worker.on("error", (error) => this.#logger.warn({ err: error }, "queue worker error"));
    this.#worker = worker;
    return worker;
  }

  async stats(): Promise<{ queue: QueueStats; workers: string[] }> {
    const counts = await this.queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "waiting-children",
      "failed",
    );
    const workers = await this.queue.getWorkers();
    return {
      queue: {
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        waiting_children: counts["waiting-children"] ?? 0,
        failed: counts.failed ?? 0,
      },
      workers: workers
        .map((w) => w.name)
        .filter((name): name is string => Boolean(name))
        .sort(),
    };
  }

  // A worker finishes the jobs it holds (up to the grace period) before its connections close.
  async close(graceMs: number): Promise<void> {
    if (this.#worker) {
      const closing = this.#worker.close();
      const inTime = await Promise.race([
        closing.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
      ]);
      if (!inTime) await this.#worker.close(true);
    }
    await this.queue.close();
    this.subscriber.disconnect();
    for (const connection of [this.redis, ...this.#owned]) await connection.quit().catch(() => undefined);
  }

  #connect(): Redis {
    const connection = connectRedis(this.#url);
    connection.on("error", (error) => this.#logger.warn({ err: error }, "redis connection error"));
    this.#owned.push(connection);
    return connection;
  }
}

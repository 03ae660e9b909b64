import type { Clock } from "../core/clock.ts";
import { OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import type { MediaProvider, MediaResult } from "../providers/media-provider.ts";
import type { Resilience } from "../resilience/resilience.ts";
import { withRetry } from "../resilience/retry.ts";
import type { CallRecorder } from "../telemetry/upstream-call.ts";
import type { ModelCatalog } from "./model-catalog.ts";

export interface MediaCallResult extends MediaResult {
  readonly role: string;
  readonly costUsd: number;
  readonly latencyMs: number;
}

// Generates an image or a video by role (image_generation_ai, video_generation_ai), through the same
// circuit breaker, priority slots and retries as chat calls, and prices it per image or per video second.
export class MediaClient {
  readonly #catalog: ModelCatalog;
  readonly #provider: MediaProvider;
  readonly #res: Resilience;
  readonly #clock: Clock;
  readonly #recorder: CallRecorder | undefined;
  readonly #budget: { check(): Promise<void> } | undefined;

  constructor(options: {
    catalog: ModelCatalog;
    provider: MediaProvider;
    resilience: Resilience;
    clock: Clock;
    recorder?: CallRecorder;
    budget?: { check(): Promise<void> };
  }) {
    this.#catalog = options.catalog;
    this.#provider = options.provider;
    this.#res = options.resilience;
    this.#clock = options.clock;
    this.#recorder = options.recorder;
    this.#budget = options.budget;
  }

  get providerName(): MediaProvider["name"] {
    return this.#provider.name;
  }

  async generate(
    roleName: string,
    prompt: string,
    options: { signal?: AbortSignal; deadline: number },
  ): Promise<MediaCallResult> {
    const { role, definition } = this.#catalog.require(roleName);
    if (definition.kind === "chat") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_a_media_model",
        status: 400,
        message: `role '${role}' is a chat model; it cannot generate images or videos`,
      });
    }
    await this.#budget?.check();
    const started = this.#clock.now();
    const now = () => this.#clock.now();
    const unitPrice =
      (definition.kind === "image" ? definition.pricing.perImage : definition.pricing.perVideoSecond) ?? 0;
    const record = (
      attemptStarted: number,
      outcome: { outcome: "ok"; costUsd: number } | OrchestratorError,
    ) =>
      this.#recorder?.record({
        purpose: "media",
        kind: definition.kind,
        role,
        model: definition.model,
        provider: this.#provider.name,
        promptTokens: 0,
        completionTokens: 0,
        latencyMs: now() - attemptStarted,
        ...(outcome instanceof OrchestratorError
          ? { outcome: outcome.kind, errorCode: outcome.code, costUsd: 0, costSource: "none" }
          : { outcome: "ok", costUsd: outcome.costUsd, costSource: "price" }),
      });
    const result = await withRetry(
      async () => {
        const breaker = this.#res.breakers.for(definition.model);
        if (!breaker.tryAcquire()) {
          const error = breaker.openError();
          record(now(), error);
          throw error;
        }
        const release = await this.#res.scheduler.acquire("medium", options.signal);
        const attemptStarted = now();
        try {
          const request = {
            model: definition.model,
            prompt,
            timeoutMs: Math.max(1, options.deadline - now()),
            ...(options.signal ? { signal: options.signal } : {}),
          };
          const made =
            definition.kind === "image"
              ? await this.#provider.image(request)
              : await this.#provider.video(request);
          breaker.onSuccess();
          record(attemptStarted, { outcome: "ok", costUsd: unitPrice * made.units });
          return made;
        } catch (raw) {
          const error = toOrchestratorError(raw);
          if (error.kind !== "logical") breaker.onFailure();
          else breaker.onNeutral();
          record(attemptStarted, error);
          throw error;
        } finally {
          release();
        }
      },
      {
        policy: this.#res.policy,
        sleep: this.#res.sleep,
        random: this.#res.random,
        now,
        deadline: options.deadline,
        signal: options.signal,
      },
    );
    return {
      ...result,
      role,
      costUsd: unitPrice * result.units,
      latencyMs: now() - started,
    };
  }
}

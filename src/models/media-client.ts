import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { MediaProvider, MediaResult } from "../providers/media-provider.ts";
import type { Resilience } from "../resilience/resilience.ts";
import { withRetry } from "../resilience/retry.ts";
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

  constructor(options: {
    catalog: ModelCatalog;
    provider: MediaProvider;
    resilience: Resilience;
    clock: Clock;
  }) {
    this.#catalog = options.catalog;
    this.#provider = options.provider;
    this.#res = options.resilience;
    this.#clock = options.clock;
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
    const started = this.#clock.now();
    const now = () => this.#clock.now();
    const result = await withRetry(
      async () => {
        const breaker = this.#res.breakers.for(definition.model);
        if (!breaker.tryAcquire()) throw breaker.openError();
        const release = await this.#res.scheduler.acquire("medium", options.signal);
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
          return made;
        } catch (error) {
          if (OrchestratorError.isInstance(error) && error.kind !== "logical") breaker.onFailure();
          else breaker.onNeutral();
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
    const unitPrice =
      definition.kind === "image" ? definition.pricing.perImage : definition.pricing.perVideoSecond;
    return {
      ...result,
      role,
      costUsd: (unitPrice ?? 0) * result.units,
      latencyMs: now() - started,
    };
  }
}

import type { Clock } from "../core/clock.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { MediaResult } from "../providers/media-provider.ts";
import type { ProviderRegistry } from "../providers/provider-registry.ts";
import type { UpstreamGuard } from "../resilience/upstream-guard.ts";
import type { ModelCatalog } from "./model-catalog.ts";

export interface MediaCallResult extends MediaResult {
  readonly role: string;
  readonly costUsd: number;
  readonly latencyMs: number;
}

// Generates an image or a video by role (image_generation_ai, video_generation_ai) through the role's
// provider and the same guard as every other upstream call, and prices it per image or per video second.
export class MediaClient {
  readonly #catalog: ModelCatalog;
  readonly #providers: ProviderRegistry;
  readonly #guard: UpstreamGuard;
  readonly #clock: Clock;
  readonly #budget: { check(): Promise<void> } | undefined;

  readonly #videoSeconds: number;

  constructor(options: {
    catalog: ModelCatalog;
    providers: ProviderRegistry;
    guard: UpstreamGuard;
    clock: Clock;
    budget?: { check(): Promise<void> };
    // The length of a generated video (providers.google_ai.videoSeconds), which it is priced by.
    videoSeconds?: number;
  }) {
    this.#videoSeconds = options.videoSeconds ?? 8;
    this.#catalog = options.catalog;
    this.#providers = options.providers;
    this.#guard = options.guard;
    this.#clock = options.clock;
    this.#budget = options.budget;
  }

  async generate(
    roleName: string,
    prompt: string,
    options: { signal?: AbortSignal; deadline: number },
  ): Promise<MediaCallResult> {
    const { role, definition } = this.#catalog.require(roleName);
    const { kind, model } = definition;
    if (kind !== "image" && kind !== "video") {
      throw new OrchestratorError({
        kind: "logical",
        code: "not_a_media_model",
        status: 400,
        message: `role '${role}' is a${kind === "chat" ? " chat" : "n embedding"} model; it cannot generate images or videos`,
      });
    }
    const provider = this.#providers.media(definition.provider, kind, model);
    await this.#budget?.check();
    const started = this.#clock.now();
    const unitPrice =
      (kind === "image" ? definition.pricing.perImage : definition.pricing.perVideoSecond) ?? 0;
    const result = await this.#guard.execute(
      {
        kind,
        purpose: "media",
        role,
        model,
        provider: provider.name,
        deployment: definition.provider,
        priority: "medium",
        // One image, or one video of the configured length: what a budget reserves before the call.
        worstCaseUsd: unitPrice * (kind === "image" ? 1 : this.#videoSeconds),
        deadline: options.deadline,
        signal: options.signal,
      },
      ({ signal, timeoutMs }) => {
        const request = { model, prompt, timeoutMs, signal };
        return kind === "image" ? provider.image(request) : provider.video(request);
      },
      (made) => ({
        promptTokens: 0,
        completionTokens: 0,
        costUsd: costOfMedia(made, unitPrice),
        costSource: made.reportedCostUsd === undefined ? "price" : "upstream",
      }),
    );
    return {
      ...result,
      role,
      costUsd: costOfMedia(result, unitPrice),
      latencyMs: this.#clock.now() - started,
    };
  }
}

// The upstream's own figure when it reports one, otherwise units × the configured price.
function costOfMedia(made: MediaResult, unitPrice: number): number {
  return made.reportedCostUsd ?? unitPrice * made.units;
}

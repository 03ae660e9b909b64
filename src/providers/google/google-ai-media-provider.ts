import { OrchestratorError } from "../../core/errors.ts";
import type { Sleeper } from "../../resilience/sleeper.ts";
import type { MediaProvider, MediaRequest, MediaResult } from "../media-provider.ts";
import { errorFromHttpStatus, parseRetryAfter } from "../upstream-error.ts";

export interface GoogleAiMediaOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly pollIntervalMs: number;
  readonly sleep: Sleeper;
  readonly fetch?: typeof globalThis.fetch;
}

const defaultVideoSeconds = 8;

// Imagen through `:predict`, and Veo through `:predictLongRunning`, whose operation is polled until the
// video is ready and then downloaded. The key travels in a header, never in a URL that could be logged.
export class GoogleAiMediaProvider implements MediaProvider {
  readonly name = "google_ai" as const;
  readonly #options: GoogleAiMediaOptions;
  readonly #fetch: typeof globalThis.fetch;
  // The key goes to this origin only: a video URI on another host is fetched without it.
  readonly #keyOrigin: string;

  constructor(options: GoogleAiMediaOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#keyOrigin = new URL(options.baseUrl).origin;
  }

  async image(request: MediaRequest): Promise<MediaResult> {
    return this.#withDeadline(request, async (signal) => {
      const body = { instances: [{ prompt: request.prompt }], parameters: { sampleCount: 1 } };
      const answer = await this.#json(`models/${request.model}:predict`, request.model, signal, body);
      const prediction = (
        answer as { predictions?: Array<{ bytesBase64Encoded?: string; mimeType?: string }> }
      ).predictions?.[0];
      if (!prediction?.bytesBase64Encoded) {
        throw malformed(request.model, "the answer has no image (it may have been filtered for safety)");
      }
      return {
        data: Buffer.from(prediction.bytesBase64Encoded, "base64"),
        contentType: prediction.mimeType ?? "image/png",
        model: request.model,
        units: 1,
        simulated: false,
      };
    });
  }

  async video(request: MediaRequest): Promise<MediaResult> {
    return this.#withDeadline(request, async (signal) => {
      const body = {
        instances: [{ prompt: request.prompt }],
        parameters: { durationSeconds: defaultVideoSeconds },
      };
      const started = (await this.#json(
        `models/${request.model}:predictLongRunning`,
        request.model,
        signal,
        body,
      )) as {
        name?: string;
      };
      if (!started.name) throw malformed(request.model, "the answer names no operation to poll");
      for (;;) {
        const operation = (await this.#json(started.name, request.model, signal)) as VeoOperation;
        if (operation.error) {
          throw new OrchestratorError({
            kind: "persistent",
            code: "generation_failed",
            status: 502,
            model: request.model,
            message: `video generation failed: ${operation.error.message ?? "no reason given"}`,
          });
        }
        if (operation.done) {
          const uri = operation.response?.generateVideoResponse?.generatedSamples?.[0]?.video?.uri;
          if (!uri) throw malformed(request.model, "the finished operation holds no video");
          const video = await this.#send(uri, request.model, signal);
          return {
            data: new Uint8Array(await video.arrayBuffer()),
            contentType: video.headers.get("content-type")?.split(";")[0] || "video/mp4",
            model: request.model,
            units: defaultVideoSeconds,
            simulated: false,
          };
        }
        await this.#options.sleep(this.#options.pollIntervalMs, signal);
      }
    });
  }

  async #json(path: string, model: string, signal: AbortSignal, body?: unknown): Promise<unknown> {
    const response = await this.#send(
      `${this.#options.baseUrl.replace(/\/$/, "")}/${path}`,
      model,
      signal,
      body,
    );
    try {
      return await response.json();
    } catch {
      throw malformed(model, "the answer is not JSON");
    }
  }

  async #send(url: string, model: string, signal: AbortSignal, body?: unknown): Promise<Response> {
    const response = await this.#fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        ...(URL.parse(url)?.origin === this.#keyOrigin ? { "x-goog-api-key": this.#options.apiKey } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal,
    });
    if (response.ok) return response;
    const text = await response.text().catch(() => "");
    let reason = text.slice(0, 500) || response.statusText;
    try {
      reason = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? reason;
    } catch {
      // Not JSON: keep the text.
    }
    throw errorFromHttpStatus({
      status: response.status,
      reason,
      where: `google_ai model ${model}`,
      model,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    });
  }

  async #withDeadline(
    request: MediaRequest,
    work: (signal: AbortSignal) => Promise<MediaResult>,
  ): Promise<MediaResult> {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    try {
      return await work(signal);
    } catch (error) {
      if (OrchestratorError.isInstance(error)) throw error;
      if (timeout.aborted && !request.signal?.aborted) {
        throw new OrchestratorError({
          kind: "resource",
          code: "upstream_timeout",
          status: 504,
          retryable: true,
          model: request.model,
          message: `google_ai model ${request.model} did not finish within ${Math.round(request.timeoutMs / 1000)} s`,
          cause: error,
        });
      }
      if (request.signal?.aborted) {
        throw new OrchestratorError({
          kind: "logical",
          code: "cancelled",
          status: 499,
          model: request.model,
          message: "generation was cancelled",
          cause: error,
        });
      }
      throw new OrchestratorError({
        kind: "transient",
        code: "upstream_unreachable",
        status: 503,
        model: request.model,
        message: `cannot reach google_ai: ${(error as Error).message}`,
        cause: error,
      });
    }
  }
}

interface VeoOperation {
  done?: boolean;
  error?: { message?: string };
  response?: { generateVideoResponse?: { generatedSamples?: Array<{ video?: { uri?: string } }> } };
}

function malformed(model: string, what: string): OrchestratorError {
  return new OrchestratorError({
    kind: "transient",
    code: "upstream_malformed",
    status: 502,
    model,
    message: `google_ai model ${model}: ${what}`,
  });
}

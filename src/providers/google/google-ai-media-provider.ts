import { OrchestratorError } from "../../core/errors.ts";
import type { Sleeper } from "../../core/sleeper.ts";
import type { MediaProvider, MediaRequest, MediaResult } from "../media-provider.ts";
import { errorFromHttpStatus, malformedAnswer, parseRetryAfter, requestNotBuilt } from "../upstream-error.ts";
import { encodeJson, RequestBuildError } from "../upstream-http.ts";

// How images are made: Gemini's native image models answer `:generateContent` with the image inline;
// Imagen (still served on Vertex AI) answers `:predict`. `auto` picks by the model id.
export type GoogleImageMode = "auto" | "generateContent" | "predict";

export interface GoogleAiMediaOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly pollIntervalMs: number;
  readonly imageMode: GoogleImageMode;
  readonly videoSeconds: number;
  readonly sleep: Sleeper;
  readonly fetch?: typeof globalThis.fetch;
}

// Images through Gemini's `generateContent` with `responseModalities: ["IMAGE"]` (the image comes back as
// `inlineData`), or Imagen's `:predict`; videos through Veo's `:predictLongRunning`, whose operation is polled
// until the video is ready and then downloaded (or read inline). The key travels in a header, never in a URL.
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
    return this.#withDeadline(request, (signal) =>
      this.#imageMode(request.model) === "predict"
        ? this.#predictImage(request, signal)
        : this.#generateImage(request, signal),
    );
  }

  async video(request: MediaRequest): Promise<MediaResult> {
    return this.#withDeadline(request, async (signal) => {
      const seconds = this.#options.videoSeconds;
      const body = { instances: [{ prompt: request.prompt }], parameters: { durationSeconds: seconds } };
      const started = (await this.#json(
        `models/${request.model}:predictLongRunning`,
        request.model,
        signal,
        body,
      )) as { name?: string };
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
        if (operation.done) return this.#finishedVideo(request.model, operation, seconds, signal);
        await this.#options.sleep(this.#options.pollIntervalMs, signal);
      }
    });
  }

  #imageMode(model: string): "generateContent" | "predict" {
    const { imageMode } = this.#options;
    if (imageMode !== "auto") return imageMode;
    return model.startsWith("imagen-") ? "predict" : "generateContent";
  }

  // https://ai.google.dev/gemini-api/docs/image-generation: the parts of the first candidate hold the image
  // as inlineData (base64 and its MIME type); a refused prompt has promptFeedback.blockReason instead.
  async #generateImage(request: MediaRequest, signal: AbortSignal): Promise<MediaResult> {
    const body = {
      contents: [{ role: "user", parts: [{ text: request.prompt }] }],
      generationConfig: { responseModalities: ["IMAGE"] },
    };
    const answer = (await this.#json(
      `models/${request.model}:generateContent`,
      request.model,
      signal,
      body,
    )) as GenerateContentAnswer;
    const candidate = answer.candidates?.[0];
    const image = candidate?.content?.parts?.find((part) => part.inlineData?.data)?.inlineData;
    if (image?.data) return imageResult(request.model, image.data, image.mimeType);
    const blocked = answer.promptFeedback?.blockReason;
    const finish = candidate?.finishReason;
    if (blocked || (finish && finish !== "STOP")) {
      throw refused(request.model, blocked ?? finish ?? "", answer.promptFeedback?.blockReasonMessage);
    }
    throw malformed(request.model, "the answer holds no image");
  }

  async #predictImage(request: MediaRequest, signal: AbortSignal): Promise<MediaResult> {
    const body = { instances: [{ prompt: request.prompt }], parameters: { sampleCount: 1 } };
    const answer = await this.#json(`models/${request.model}:predict`, request.model, signal, body);
    const prediction = (answer as { predictions?: Array<{ bytesBase64Encoded?: string; mimeType?: string }> })
      .predictions?.[0];
    if (!prediction?.bytesBase64Encoded) {
      throw malformed(request.model, "the answer has no image (it may have been filtered for safety)");
    }
    return imageResult(request.model, prediction.bytesBase64Encoded, prediction.mimeType);
  }

  // The finished operation holds the video as a URI to download or inline bytes; a video held back by the
  // safety filters is reported in raiMediaFilteredReasons.
  async #finishedVideo(
    model: string,
    operation: VeoOperation,
    seconds: number,
    signal: AbortSignal,
  ): Promise<MediaResult> {
    const result = operation.response?.generateVideoResponse;
    const video = result?.generatedSamples?.[0]?.video;
    if (video?.encodedVideo) {
      return {
        data: Buffer.from(video.encodedVideo, "base64"),
        contentType: video.encoding ?? "video/mp4",
        model,
        units: seconds,
        simulated: false,
      };
    }
    if (video?.uri) {
      const download = await this.#send(video.uri, model, signal);
      return {
        data: new Uint8Array(await download.arrayBuffer()),
        contentType: download.headers.get("content-type")?.split(";")[0] || "video/mp4",
        model,
        units: seconds,
        simulated: false,
      };
    }
    if (result?.raiMediaFilteredCount) {
      throw refused(model, "SAFETY", result.raiMediaFilteredReasons?.join("; "));
    }
    throw malformed(model, "the finished operation holds no video");
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
      ...(body === undefined ? {} : { body: encodeJson(body) }),
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
      if (error instanceof RequestBuildError) throw requestNotBuilt("google_ai", request.model, error);
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

interface GenerateContentAnswer {
  candidates?: Array<{
    content?: { parts?: Array<{ text?: string; inlineData?: { mimeType?: string; data?: string } }> };
    finishReason?: string;
  }>;
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
}

interface VeoOperation {
  done?: boolean;
  error?: { message?: string };
  response?: {
    generateVideoResponse?: {
      generatedSamples?: Array<{ video?: { uri?: string; encodedVideo?: string; encoding?: string } }>;
      raiMediaFilteredCount?: number;
      raiMediaFilteredReasons?: string[];
    };
  };
}

function malformed(model: string, what: string): OrchestratorError {
  return malformedAnswer("google_ai", model, what);
}

// The model would not make this one (safety filters, a prohibited prompt, no image produced): the same
// prompt would be refused again, so it is not retried and says nothing about the model's health.
function refused(model: string, reason: string, detail: string | undefined): OrchestratorError {
  return new OrchestratorError({
    kind: "persistent",
    code: "generation_refused",
    status: 422,
    model,
    message: `google_ai model ${model} made nothing for this prompt (${reason || "no reason given"})${detail ? `: ${detail}` : ""}; rephrase it`,
  });
}

// One generated image, from the base64 bytes either image protocol returns.
function imageResult(model: string, base64: string, mimeType: string | undefined): MediaResult {
  return {
    data: Buffer.from(base64, "base64"),
    contentType: mimeType ?? "image/png",
    model,
    units: 1,
    simulated: false,
  };
}

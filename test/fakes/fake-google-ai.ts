import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readBody, sendJson } from "./http-helpers.ts";

// A stand-in for the Google AI (Gemini API) endpoints the service uses, as documented today:
// - images from Gemini's native image models through `models/{model}:generateContent` with
//   `generationConfig.responseModalities: ["IMAGE"]`, the image returned as `inlineData` in the first
//   candidate's parts, a refused prompt as `promptFeedback.blockReason`
//   (https://ai.google.dev/gemini-api/docs/image-generation);
// - Imagen's `:predict`, which the Gemini API shut down (its SDK disabled generateImages for the Gemini
//   API: https://ai.google.dev/gemini-api/docs/deprecations#imagen-models) and which Vertex AI still serves:
//   here it answers 404 unless `imagenServed` is set;
// - Veo's `:predictLongRunning` (https://ai.google.dev/gemini-api/docs/video): an operation polled with GET
//   until `done`, whose `response.generateVideoResponse.generatedSamples[].video` holds a `uri` to download
//   (or, when `inlineVideos` is set, the bytes as `encodedVideo`), or `raiMediaFilteredCount` and
//   `raiMediaFilteredReasons` when the safety filters held the video back.
// Retired ids (Imagen 4 on the Gemini API, `veo-3.1-generate-preview`) answer 404 as the real API does.
// It is a real HTTP server on 127.0.0.1 that checks the x-goog-api-key header and records every request.

export interface GoogleRecordedRequest {
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  readonly apiKey: string | undefined;
  readonly body: unknown;
}

export type GoogleFault = { status: number; message: string; retryAfterSeconds?: number };

export interface FakeGoogleAi {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: readonly GoogleRecordedRequest[];
  // How many polls a video operation needs before it is done.
  pollsUntilDone: number;
  // Imagen's :predict answers (as on Vertex AI) instead of 404.
  imagenServed: boolean;
  // Finished videos carry their bytes inline instead of a URI to download.
  inlineVideos: boolean;
  // One-shot faults, used in order by the next requests to a model endpoint.
  enqueueFault(...faults: GoogleFault[]): void;
  // Makes the next video operation end in an error instead of a video.
  failNextVideo(message: string): void;
  // Where finished videos are served (an origin such as http://127.0.0.1:PORT); this fake by default.
  videoOrigin: string | undefined;
  // Makes the next video come back held by the safety filters.
  filterNextVideo(reason: string): void;
  // Makes the next image request be refused with this promptFeedback.blockReason.
  blockNextImage(reason: string): void;
  close(): Promise<void>;
}

// A 1×1 PNG and a few bytes standing in for an MP4 file.
export const fakePng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
export const fakeMp4 = Buffer.from("000000186674797069736f6d0000020069736f6d69736f32", "hex");

// Model ids the Gemini API no longer serves.
const retiredModels = new Set([
  "imagen-4.0-ultra-generate-001",
  "imagen-4.0-generate-001",
  "imagen-4.0-fast-generate-001",
  "veo-3.1-generate-preview",
]);

export async function startFakeGoogleAi(options: { apiKey?: string } = {}): Promise<FakeGoogleAi> {
  const apiKey = options.apiKey ?? "test-google-key";
  const requests: GoogleRecordedRequest[] = [];
  const faults: GoogleFault[] = [];
  const operations = new Map<string, { polls: number; error?: string; filtered?: string }>();
  let nextVideoError: string | undefined;
  let nextVideoFilter: string | undefined;
  let nextImageBlock: string | undefined;

  const fake: FakeGoogleAi = {
    baseUrl: "",
    apiKey,
    requests,
    pollsUntilDone: 2,
    videoOrigin: undefined,
    imagenServed: false,
    inlineVideos: false,
    enqueueFault: (...more) => faults.push(...more),
    failNextVideo: (message) => {
      nextVideoError = message;
    },
    filterNextVideo: (reason) => {
      nextVideoFilter = reason;
    },
    blockNextImage: (reason) => {
      nextImageBlock = reason;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) =>
      sendJson(res, 500, { error: { code: 500, message: String(error) } }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    const key = req.headers["x-goog-api-key"];
    const body = raw ? (JSON.parse(raw) as unknown) : undefined;
    requests.push({
      receivedAt: performance.now(),
      method: req.method ?? "",
      path: url.pathname,
      apiKey: typeof key === "string" ? key : undefined,
      body,
    });
    if (key !== apiKey) {
      return sendJson(res, 403, {
        error: {
          code: 403,
          message: "API key not valid. Please pass a valid API key.",
          status: "PERMISSION_DENIED",
        },
      });
    }
    const path = url.pathname.replace(/^\/v1beta\//, "");
    const modelCall = /^models\/([^:]+):(predict|predictLongRunning|generateContent)$/.exec(path);
    if (modelCall && req.method === "POST") {
      const [, model = "", method] = modelCall;
      const fault = faults.shift();
      if (fault) {
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) };
        return sendJson(
          res,
          fault.status,
          { error: { code: fault.status, message: fault.message } },
          headers,
        );
      }
      if (retiredModels.has(model) && !(method === "predict" && fake.imagenServed)) {
        return sendJson(res, 404, {
          error: {
            code: 404,
            message: `models/${model} is not found for API version v1beta, or is not supported for ${method}.`,
            status: "NOT_FOUND",
          },
        });
      }
      if (method === "generateContent") return generateContent(res, model, body);
      const prompt = (body as { instances?: Array<{ prompt?: string }> } | undefined)?.instances?.[0]?.prompt;
      if (!prompt)
        return sendJson(res, 400, { error: { code: 400, message: "instances[0].prompt is required" } });
      if (method === "predict") {
        return sendJson(res, 200, {
          predictions: [{ bytesBase64Encoded: fakePng.toString("base64"), mimeType: "image/png" }],
        });
      }
      const name = `models/${model}/operations/${randomUUID()}`;
      operations.set(name, {
        polls: 0,
        ...(nextVideoError ? { error: nextVideoError } : {}),
        ...(nextVideoFilter ? { filtered: nextVideoFilter } : {}),
      });
      nextVideoError = undefined;
      nextVideoFilter = undefined;
      return sendJson(res, 200, { name });
    }
    const operation = operations.get(path);
    if (operation && req.method === "GET") {
      operation.polls++;
      if (operation.polls < fake.pollsUntilDone) return sendJson(res, 200, { name: path, done: false });
      if (operation.error)
        return sendJson(res, 200, { name: path, done: true, error: { code: 3, message: operation.error } });
      const base = fake.videoOrigin ?? `http://127.0.0.1:${port()}`;
      const generateVideoResponse = operation.filtered
        ? { raiMediaFilteredCount: 1, raiMediaFilteredReasons: [operation.filtered] }
        : {
            generatedSamples: [
              {
                video: fake.inlineVideos
                  ? { encodedVideo: fakeMp4.toString("base64"), encoding: "video/mp4" }
                  : { uri: `${base}/v1beta/files/${randomUUID()}:download?alt=media` },
              },
            ],
          };
      return sendJson(res, 200, {
        name: path,
        done: true,
        response: {
          "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
          generateVideoResponse,
        },
      });
    }
    if (/^files\/[^:]+:download$/.test(path) && req.method === "GET") {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": fakeMp4.length });
      res.end(fakeMp4);
      return;
    }
    return sendJson(res, 404, { error: { code: 404, message: `no route ${req.method} ${url.pathname}` } });
  }

  function generateContent(res: ServerResponse, model: string, body: unknown): void {
    const request = body as
      | {
          contents?: Array<{ parts?: Array<{ text?: string }> }>;
          generationConfig?: { responseModalities?: string[] };
        }
      | undefined;
    const prompt = request?.contents?.[0]?.parts?.[0]?.text;
    if (!prompt) {
      sendJson(res, 400, { error: { code: 400, message: "contents is not specified" } });
      return;
    }
    const usageMetadata = { promptTokenCount: 8, candidatesTokenCount: 1290, totalTokenCount: 1298 };
    if (nextImageBlock) {
      const blockReason = nextImageBlock;
      nextImageBlock = undefined;
      sendJson(res, 200, { promptFeedback: { blockReason }, usageMetadata, modelVersion: model });
      return;
    }
    const wantsImage = request?.generationConfig?.responseModalities?.includes("IMAGE");
    const parts = wantsImage
      ? [{ inlineData: { mimeType: "image/png", data: fakePng.toString("base64") } }]
      : [{ text: `A description of ${prompt}` }];
    sendJson(res, 200, {
      candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
      usageMetadata,
      modelVersion: model,
      responseId: randomUUID(),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = () => {
    const address = server.address();
    return address !== null && typeof address !== "string" ? address.port : 0;
  };
  return Object.assign(fake, { baseUrl: `http://127.0.0.1:${port()}/v1beta` });
}

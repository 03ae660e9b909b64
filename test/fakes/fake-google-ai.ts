import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readBody, sendJson } from "./http-helpers.ts";

// A stand-in for the Google AI (Gemini API) endpoints the service uses: Imagen's `:predict`, Veo's
// `:predictLongRunning` with operation polling and a file download.
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
  // One-shot faults, used in order by the next requests to a model endpoint.
  enqueueFault(...faults: GoogleFault[]): void;
  // Makes the next video operation end in an error instead of a video.
  failNextVideo(message: string): void;
  // Where finished videos are served (an origin such as http://127.0.0.1:PORT); this fake by default.
  videoOrigin: string | undefined;
  close(): Promise<void>;
}

// A 1×1 PNG and a few bytes standing in for an MP4 file.
export const fakePng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
export const fakeMp4 = Buffer.from("000000186674797069736f6d0000020069736f6d69736f32", "hex");

export async function startFakeGoogleAi(options: { apiKey?: string } = {}): Promise<FakeGoogleAi> {
  const apiKey = options.apiKey ?? "test-google-key";
  const requests: GoogleRecordedRequest[] = [];
  const faults: GoogleFault[] = [];
  const operations = new Map<string, { polls: number; error?: string }>();
  let nextVideoError: string | undefined;

  const fake: FakeGoogleAi = {
    baseUrl: "",
    apiKey,
    requests,
    pollsUntilDone: 2,
    videoOrigin: undefined,
    enqueueFault: (...more) => faults.push(...more),
    failNextVideo: (message) => {
      nextVideoError = message;
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
    const modelCall = /^models\/([^:]+):(predict|predictLongRunning)$/.exec(path);
    if (modelCall && req.method === "POST") {
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
      const prompt = (body as { instances?: Array<{ prompt?: string }> } | undefined)?.instances?.[0]?.prompt;
      if (!prompt)
        return sendJson(res, 400, { error: { code: 400, message: "instances[0].prompt is required" } });
      if (modelCall[2] === "predict") {
        return sendJson(res, 200, {
          predictions: [{ bytesBase64Encoded: fakePng.toString("base64"), mimeType: "image/png" }],
        });
      }
      const name = `models/${modelCall[1]}/operations/${randomUUID()}`;
      operations.set(name, { polls: 0, ...(nextVideoError ? { error: nextVideoError } : {}) });
      nextVideoError = undefined;
      return sendJson(res, 200, { name });
    }
    const operation = operations.get(path);
    if (operation && req.method === "GET") {
      operation.polls++;
      if (operation.polls < fake.pollsUntilDone) return sendJson(res, 200, { name: path, done: false });
      if (operation.error)
        return sendJson(res, 200, { name: path, done: true, error: { code: 3, message: operation.error } });
      const base = fake.videoOrigin ?? `http://127.0.0.1:${port()}`;
      return sendJson(res, 200, {
        name: path,
        done: true,
        response: {
          "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
          generateVideoResponse: {
            generatedSamples: [{ video: { uri: `${base}/v1beta/files/${randomUUID()}:download?alt=media` } }],
          },
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

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = () => {
    const address = server.address();
    return address !== null && typeof address !== "string" ? address.port : 0;
  };
  return Object.assign(fake, { baseUrl: `http://127.0.0.1:${port()}/v1beta` });
}

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { readBody, sendJson } from "./http-helpers.ts";

// What the OpenAI-compatible, Anthropic and Gemini fakes share: a real HTTP server on 127.0.0.1 that records
// every request (path, headers, parsed body), answers through a responder or a queue of replies, and
// writes server-sent events. Each fake adds its own wire format on top.

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  // A recorded wire body, inspected field by field in tests.
  readonly body: any;
}

// What a test asks the fake to answer, in the service's terms; each fake writes it in its wire format.
export type UpstreamReply =
  | {
      kind: "text";
      content: string;
      model?: string;
      promptTokens?: number;
      completionTokens?: number;
      // Of the prompt, tokens read from the upstream's prompt cache, and (Anthropic) written to it.
      cacheReadTokens?: number;
      cacheWriteTokens?: number;
      toolCalls?: Array<{ id: string; name: string; arguments: string }>;
      // The upstream's own finish reason, in its own words.
      finishReason?: string;
      chunkSize?: number;
    }
  | { kind: "error"; status: number; message: string; errorType?: string; retryAfterSeconds?: number }
  | { kind: "midstream-error"; contentBefore: string; message: string; errorType?: string }
  | { kind: "truncated"; contentBefore: string };

export type UpstreamResponder = (request: UpstreamRequest) => UpstreamReply;

export interface FakeUpstream {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: readonly UpstreamRequest[];
  respondWith(responder: UpstreamResponder): void;
  enqueue(...replies: UpstreamReply[]): void;
  clear(): void;
  close(): Promise<void>;
}

// Answers a request with the reply, streamed or whole.
export type WireWriter = (request: UpstreamRequest, reply: UpstreamReply, res: ServerResponse) => void;

export async function startFakeUpstream(options: {
  readonly basePath: string;
  readonly write: WireWriter;
  readonly fallback: UpstreamResponder;
  // Answers what is not a model call (an embeddings request, say); undefined: the writer answers.
  readonly other?: (request: UpstreamRequest, res: ServerResponse) => boolean;
}): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  const queue: UpstreamReply[] = [];
  let responder = options.fallback;
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        sendJson(res, 400, { error: { message: "not JSON" } });
        return;
      }
      const request: UpstreamRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
        ),
        body,
      };
      requests.push(request);
      if (options.other?.(request, res)) return;
      options.write(request, queue.shift() ?? responder(request), res);
    })();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}${options.basePath}`,
    apiKey: `fake-key-${randomUUID()}`,
    requests,
    respondWith(next) {
      responder = next;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    clear() {
      requests.length = 0;
      queue.length = 0;
      responder = options.fallback;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function startEvents(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
}

// One server-sent event: `event:` when the protocol names its events (Anthropic's do), then `data:`.
export function writeEvent(res: ServerResponse, data: unknown, event?: string): void {
  res.write(
    `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`,
  );
}

export function pieces(text: string, size = 4): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

// H for a message that asks for a workflow, M otherwise.
export function defaultLabel(text: string): string {
  return /workflow please/i.test(text) ? "H" : "M";
}

// Answers like the real models would for the service's own pipeline, by what the system prompt asks:
// the categorizer with `label`, the planner with a one-task plan, everyone else with a text naming the model.
export function pipelineAnswer(
  model: string,
  system: string,
  lastUser: string,
  label: (lastUser: string) => string = defaultLabel,
): string {
  if (/classify requests/i.test(system)) return label(lastUser);
  if (/You are the planner/.test(system)) {
    return JSON.stringify({
      workflow: [
        {
          type: "inline",
          tasks: [{ model: "medium_ai", prompt: "Draft: {request}", output_variable: "draft" }],
        },
      ],
    });
  }
  if (/final answer to the user's request/.test(system)) return "THE FINISHED ANSWER";
  return `answer from ${model} to: ${lastUser.slice(0, 60)}`;
}

// The reply a fake gives when a test queued none: the pipeline's answer (above) with fixed usage.
export function pipelineReply(
  view: { readonly model: string; readonly system: string; readonly lastUser: string },
  label?: (lastUser: string) => string,
): UpstreamReply {
  return {
    kind: "text",
    content: pipelineAnswer(view.model, view.system, view.lastUser, label),
    promptTokens: 100,
    completionTokens: 20,
  };
}

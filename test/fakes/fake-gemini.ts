import type { ServerResponse } from "node:http";
import {
  type FakeUpstream,
  pieces,
  pipelineReply,
  startEvents,
  startFakeUpstream,
  type UpstreamReply,
  type UpstreamRequest,
  writeEvent,
} from "./fake-upstream.ts";
import { sendJson } from "./http-helpers.ts";

// A protocol-faithful stand-in for the Gemini API's chat methods, written from its reference:
// - POST /v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse, whose events are each a
//   GenerateContentResponse with the next piece, the last one with finishReason and usageMetadata:
//   https://ai.google.dev/api/generate-content
// - usageMetadata.promptTokenCount includes cachedContentTokenCount; thoughtsTokenCount is the thinking:
//   https://ai.google.dev/api/generate-content#UsageMetadata
// - function calls as functionCall parts, with a thoughtSignature on Gemini 3:
//   https://ai.google.dev/gemini-api/docs/function-calling, https://ai.google.dev/gemini-api/docs/thought-signatures
// - errors {"error": {"code", "message", "status"}}: https://ai.google.dev/gemini-api/docs/troubleshooting

export function geminiView(request: UpstreamRequest) {
  const model = /\/models\/([^:]+):/.exec(request.path)?.[1] ?? "";
  const parts = (value: unknown) =>
    Array.isArray(value) ? value.map((part: { text?: string }) => part.text ?? "").join("\n") : "";
  const contents = (request.body?.contents ?? []) as Array<{ role: string; parts: unknown }>;
  const lastUser = parts([...contents].reverse().find((c) => c.role === "user")?.parts);
  return {
    model: decodeURIComponent(model),
    system: parts(request.body?.systemInstruction?.parts),
    lastUser,
    stream: request.path.includes(":streamGenerateContent"),
  };
}

const statusName: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export function startFakeGemini(
  options: { label?: (lastUser: string) => string } = {},
): Promise<FakeUpstream> {
  return startFakeUpstream({
    basePath: "/v1beta",
    fallback: (request) => pipelineReply(geminiView(request), options.label),
    write,
  });
}

function write(request: UpstreamRequest, reply: UpstreamReply, res: ServerResponse): void {
  const view = geminiView(request);
  if (reply.kind === "error") {
    sendJson(
      res,
      reply.status,
      {
        error: {
          code: reply.status,
          message: reply.message,
          status: reply.errorType ?? statusName[reply.status] ?? "UNKNOWN",
        },
      },
      reply.retryAfterSeconds === undefined ? {} : { "retry-after": String(reply.retryAfterSeconds) },
    );
    return;
  }
  const usageMetadata =
    reply.kind === "text"
      ? {
          promptTokenCount: reply.promptTokens ?? 10,
          candidatesTokenCount: reply.completionTokens ?? 5,
          totalTokenCount: (reply.promptTokens ?? 10) + (reply.completionTokens ?? 5),
          ...(reply.cacheReadTokens ? { cachedContentTokenCount: reply.cacheReadTokens } : {}),
        }
      : undefined;
  const calls = reply.kind === "text" ? (reply.toolCalls ?? []) : [];
  const callParts = calls.map((call, index) => ({
    functionCall: { name: call.name, args: JSON.parse(call.arguments) },
    // Gemini 3 signs the first function call of a turn.
    ...(index === 0 ? { thoughtSignature: `c2lnLSR7${call.id}` } : {}),
  }));
  const response = (parts: unknown[], finishReason?: string, withUsage = false) => ({
    candidates: [{ content: { role: "model", parts }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    ...(withUsage && usageMetadata ? { usageMetadata } : {}),
    modelVersion: (reply.kind === "text" && reply.model) || view.model,
    responseId: "fake-response",
  });
  const finish = reply.kind === "text" ? (reply.finishReason ?? "STOP") : undefined;
  if (!view.stream) {
    sendJson(
      res,
      200,
      response(
        [...(reply.kind === "text" && reply.content ? [{ text: reply.content }] : []), ...callParts],
        finish,
        true,
      ),
    );
    return;
  }
  startEvents(res);
  const text = reply.kind === "text" ? reply.content : reply.contentBefore;
  const chunks = pieces(text, reply.kind === "text" ? reply.chunkSize : undefined);
  if (reply.kind !== "text") {
    for (const piece of chunks) writeEvent(res, response([{ text: piece }]));
    if (reply.kind === "midstream-error") {
      writeEvent(res, { error: { code: 503, message: reply.message, status: "UNAVAILABLE" } });
    }
    res.end();
    return;
  }
  chunks.forEach((piece, index) => {
    const last = index === chunks.length - 1 && callParts.length === 0;
    writeEvent(res, response([{ text: piece }], last ? finish : undefined, last));
  });
  if (callParts.length > 0 || chunks.length === 0) writeEvent(res, response(callParts, finish, true));
  res.end();
}

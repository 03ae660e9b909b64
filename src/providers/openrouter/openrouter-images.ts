import type { MediaRequest, MediaResult } from "../media-provider.ts";
import { type OpenRouterConnection, withDeadline } from "./openrouter-call.ts";
import { bodyError, malformed, noImage } from "./wire-errors.ts";
import { readUsage, type WireUsage } from "./wire-usage.ts";

interface WireImageCompletion {
  readonly model?: string;
  readonly choices?: ReadonlyArray<{
    readonly finish_reason?: string | null;
    readonly message?: {
      readonly content?: string | null;
      readonly images?: ReadonlyArray<{ readonly image_url?: { readonly url?: string } }>;
    };
  }>;
  readonly usage?: WireUsage;
  readonly error?: unknown;
}

// Images through chat completions with output modalities ["image", "text"]: the image comes back in
// message.images as a base64 data URL (https://openrouter.ai/docs/features/multimodal/image-generation).
export function generateImage(connection: OpenRouterConnection, request: MediaRequest): Promise<MediaResult> {
  return withDeadline(connection, request, async (signal) => {
    const completion = (await connection.http.postJson(
      "/chat/completions",
      {
        model: request.model,
        messages: [{ role: "user", content: request.prompt }],
        modalities: ["image", "text"],
        stream: false,
      },
      signal,
    )) as WireImageCompletion;
    if (completion?.error) throw bodyError(completion.error, request.model);
    const choice = completion?.choices?.[0];
    const url = choice?.message?.images?.find((image) => image.image_url?.url)?.image_url?.url;
    if (!url) throw noImage(request.model, choice?.message?.content, choice?.finish_reason);
    const image = fromDataUrl(url);
    if (!image) throw malformed(request.model, "the image is not a base64 data URL");
    const { reportedCostUsd } = readUsage(completion.usage);
    return {
      ...image,
      model: completion.model || request.model,
      units: 1,
      simulated: false,
      ...(reportedCostUsd === undefined ? {} : { reportedCostUsd }),
    };
  });
}

function fromDataUrl(url: string): { data: Uint8Array; contentType: string } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,(.+)$/s.exec(url);
  if (!match?.[1] || !match[2]) return undefined;
  return { contentType: match[1], data: Buffer.from(match[2], "base64") };
}

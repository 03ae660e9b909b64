import type { MediaProvider, MediaRequest, MediaResult } from "../media-provider.ts";

// Offline mode: an SVG card that says plainly it is a simulated image or video, with the prompt on it.
export class SimulatedMediaProvider implements MediaProvider {
  readonly name = "simulated" as const;

  async image(request: MediaRequest): Promise<MediaResult> {
    return card("simulated image", request, 1);
  }

  async video(request: MediaRequest): Promise<MediaResult> {
    return card("simulated video (poster)", request, 8);
  }
}

function card(label: string, request: MediaRequest, units: number): MediaResult {
  request.signal?.throwIfAborted();
  const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const lines = (request.prompt.match(/.{1,60}(\s|$)/g) ?? [request.prompt]).slice(0, 8);
  const svg = [
    '<svg xmlns="http://www.w3.org/2000/svg" width="768" height="432" viewBox="0 0 768 432">',
    '<rect width="768" height="432" fill="#f3f4f6" stroke="#9ca3af" stroke-width="4" stroke-dasharray="12 8"/>',
    `<text x="32" y="56" font-family="sans-serif" font-size="28" font-weight="bold" fill="#374151">[${escapeXml(label)}] ${escapeXml(request.model)}</text>`,
    ...lines.map(
      (line, i) =>
        `<text x="32" y="${110 + i * 34}" font-family="sans-serif" font-size="22" fill="#4b5563">${escapeXml(line.trim())}</text>`,
    ),
    "</svg>",
  ].join("");
  return {
    data: new TextEncoder().encode(svg),
    contentType: "image/svg+xml",
    model: request.model,
    units,
    simulated: true,
  };
}

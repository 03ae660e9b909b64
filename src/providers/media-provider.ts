// Image and video generation, the second model interface (chat is the first).

export interface MediaRequest {
  readonly model: string;
  readonly prompt: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
}

export interface MediaResult {
  readonly data: Uint8Array;
  readonly contentType: string;
  readonly model: string;
  // Images made, or seconds of video: what the call is priced by.
  readonly units: number;
  // Made by the offline mode, not by a real model.
  readonly simulated: boolean;
  // What the upstream says the call cost, when it says so (OpenRouter does).
  readonly reportedCostUsd?: number;
}

export interface MediaProvider {
  readonly name: string;
  image(request: MediaRequest): Promise<MediaResult>;
  video(request: MediaRequest): Promise<MediaResult>;
}

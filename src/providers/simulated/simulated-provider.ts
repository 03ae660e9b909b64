import { categorizeLocally } from "../../routing/local-categorizer.ts";
import { countTokensNow } from "../../tokens/token-counter.ts";
import {
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  textOf,
} from "../chat-provider.ts";

export interface SimulatedProviderOptions {
  // Pause before answering, to make the offline mode feel like a network call; 0 in tests.
  readonly latencyMs?: number;
}

// The offline mode: answers without any network so the service can be tried with no API key.
// Every answer says plainly that it is simulated; nothing here pretends to be a model's output.
export class SimulatedProvider implements ChatProvider {
  readonly name = "simulated" as const;
  readonly #latencyMs: number;

  constructor(options: SimulatedProviderOptions = {}) {
    this.#latencyMs = options.latencyMs ?? 0;
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    if (this.#latencyMs > 0) await delay(this.#latencyMs, request.signal);
    request.signal?.throwIfAborted();
    const content = answerFor(request);
    return {
      content,
      model: request.model,
      finishReason: "stop",
      usage: {
        promptTokens: request.messages.reduce((sum, m) => sum + countTokensNow(textOf(m.content)), 0),
        completionTokens: countTokensNow(content),
      },
    };
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const result = await this.complete(request);
    for (const piece of result.content.match(/\S+\s*/g) ?? []) yield { type: "delta", text: piece };
    yield { type: "done", result };
  }
}

function answerFor(request: ChatRequest): string {
  const question = lastUserText(request.messages);
  switch (request.purpose) {
    case "categorize":
      return categorizeLocally(extractRequestToClassify(question));
    case "warmup":
      return "READY";
    case "plan":
      return JSON.stringify({ workflow: simulatedPlan });
    case "finish":
      return [
        "[simulated final answer]",
        "The workflow ran in offline mode; these are the simulated outputs of its tasks, put together:",
        clip(question, 1200),
      ].join("\n\n");
    case "explain_failure":
      return `[simulated] The work on your request failed. ${clip(question, 400)}`;
    case "acknowledge":
      return (
        "[simulated] I'm on it. This is a multi-part task, so I'm planning it as a workflow and " +
        "will post the finished result in this conversation when it is ready."
      );
    default:
      return [
        `[simulated response from ${request.model}]`,
        `You asked: "${clip(question, 280)}"`,
        "The service is running in offline mode, so no model was called. " +
          "Set OPENROUTER_API_KEY to route this request to the real model.",
      ].join("\n\n");
  }
}

// A small but real plan: two parallel tasks, then one that combines their outputs.
const simulatedPlan = [
  {
    type: "linear",
    tasks: [
      {
        model: "research_ai",
        prompt: "List the key facts and considerations for this request: {request}",
        output_variable: "research",
        config: { addons: ["research"] },
      },
      {
        model: "medium_ai",
        prompt: "Outline the deliverables this request asks for: {request}",
        output_variable: "outline",
      },
    ],
  },
  {
    type: "inline",
    tasks: [
      {
        model: "thinking_ai",
        prompt:
          "Produce the deliverables for: {request}\n\nFollow this outline:\n{outline}\n\nUse this research:\n{research}",
        output_variable: "deliverables",
      },
    ],
  },
];

function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === "user") return textOf(message.content);
  }
  return "";
}

function extractRequestToClassify(prompt: string): string {
  const marker = "Request to classify:\n";
  const at = prompt.lastIndexOf(marker);
  return at === -1 ? prompt : prompt.slice(at + marker.length);
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

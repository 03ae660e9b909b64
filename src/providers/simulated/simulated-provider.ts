import { clip } from "../../core/clip.ts";
import { simulatedTokenCount } from "../../tokens/token-counter.ts";
import {
  type ChatMessage,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type ToolCall,
  textOf,
} from "../chat-provider.ts";
import { exampleOf } from "./schema-example.ts";

export interface SimulatedProviderOptions {
  // Pause before answering, to make the offline mode feel like a network call; 0 in tests.
  readonly latencyMs?: number;
  // Answers a categorizer prompt (L, M or H). Passed in: classifying is the router's business, and
  // providers sit below it.
  readonly classify: (prompt: string) => string;
}

// The offline mode: answers without any network so the service can be tried with no API key.
// Every answer says plainly that it is simulated; nothing here pretends to be a model's output.
export class SimulatedProvider implements ChatProvider {
  readonly name = "simulated" as const;
  readonly #latencyMs: number;
  readonly #classify: (prompt: string) => string;

  constructor(options: SimulatedProviderOptions) {
    this.#latencyMs = options.latencyMs ?? 0;
    this.#classify = options.classify;
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    if (this.#latencyMs > 0) await delay(this.#latencyMs, request.signal);
    request.signal?.throwIfAborted();
    const toolCall = forcedToolCall(request);
    const content = toolCall ? "" : (structuredAnswer(request) ?? answerFor(request, this.#classify));
    const promptTokens = await simulatedTokenCount(
      request.messages.map((message) => textOf(message.content)),
    );
    return {
      content,
      model: request.model,
      finishReason: toolCall ? "tool_calls" : "stop",
      usage: {
        promptTokens,
        completionTokens: await simulatedTokenCount([content || (toolCall?.function.arguments ?? "")]),
      },
      ...(toolCall ? { toolCalls: [toolCall] } : {}),
    };
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
    const result = await this.complete(request);
    for (const piece of result.content.match(/\S+\s*/g) ?? []) yield { type: "delta", text: piece };
    // Tool calls arrive as OpenAI streams them: id and name first, then the arguments.
    for (const [index, call] of (result.toolCalls ?? []).entries()) {
      const head = {
        index,
        id: call.id,
        type: "function",
        function: { name: call.function.name, arguments: "" },
      };
      yield { type: "tool_call_delta", deltas: [head] };
      yield {
        type: "tool_call_delta",
        deltas: [{ index, function: { arguments: call.function.arguments } }],
      };
    }
    yield { type: "done", result };
  }
}

// Purposes the service itself asks for answer in their own formats; only client requests get these.
const internalPurposes = new Set([
  "categorize",
  "warmup",
  "plan",
  "finish",
  "explain_failure",
  "acknowledge",
  "summarize",
]);

// tool_choice "required" or a named function forces a call: to that function (or the first tool), with
// arguments that satisfy its parameters' schema, so a client's tool loop runs without a key.
function forcedToolCall(request: ChatRequest): ToolCall | undefined {
  if (internalPurposes.has(request.purpose ?? "answer")) return undefined;
  const tools = (request.tools ?? []).map((tool) => tool.function as FunctionTool | undefined);
  const choice = request.toolChoice as { function?: { name?: string } } | string | undefined;
  const named = typeof choice === "object" ? choice?.function?.name : undefined;
  if (choice !== "required" && named === undefined) return undefined;
  const tool = named === undefined ? tools[0] : tools.find((t) => t?.name === named);
  if (!tool?.name) return undefined;
  return {
    id: `call_simulated_${tool.name}`,
    type: "function",
    function: {
      name: tool.name,
      arguments: JSON.stringify(exampleOf(tool.parameters ?? { type: "object" })),
    },
  };
}

interface FunctionTool {
  readonly name?: string;
  readonly parameters?: unknown;
}

// response_format json_schema: an object that satisfies the schema; json_object: a small JSON object.
function structuredAnswer(request: ChatRequest): string | undefined {
  if (internalPurposes.has(request.purpose ?? "answer")) return undefined;
  const format = request.responseFormat as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === "json_schema") return JSON.stringify(exampleOf(format.json_schema?.schema ?? {}));
  if (format?.type === "json_object") {
    return JSON.stringify({ simulated: true, answer: "offline mode: no model was called" });
  }
  return undefined;
}

function answerFor(request: ChatRequest, classify: (prompt: string) => string): string {
  const question = lastUserText(request.messages);
  switch (request.purpose) {
    case "categorize":
      return classify(question);
    case "warmup":
      return "READY";
    case "judge":
      return JSON.stringify({
        winner: "tie",
        reason: "[simulated] offline mode: no model compared these answers",
      });
    case "plan":
      return JSON.stringify({ workflow: simulatedPlan });
    case "finish":
      return [
        "[simulated final answer]",
        "The workflow ran in offline mode; these are the simulated outputs of its tasks, put together:",
        flatClip(question, 1200),
      ].join("\n\n");
    case "explain_failure":
      return `[simulated] The work on your request failed. ${flatClip(question, 400)}`;
    case "summarize":
      return simulatedSummary(question);
    case "acknowledge":
      return (
        "[simulated] I'm on it. This is a multi-part task, so I'm planning it as a workflow and " +
        "will post the finished result in this conversation when it is ready."
      );
    default:
      return [
        `[simulated response from ${request.model}]`,
        `You asked: "${flatClip(question, 280)}"`,
        "The service is running in offline mode, so no model was called. " +
          "Set OPENROUTER_API_KEY to route this request to the real model.",
      ].join("\n\n");
  }
}

// A session summary that says what it is and names the user's latest questions: bounded whatever the length
// of the conversation, as a real summary is. The summarizer's prompt puts each turn on a "user: " line.
function simulatedSummary(prompt: string): string {
  const questions = prompt
    .split("\n")
    .filter((line) => line.startsWith("user: "))
    .map((line) => flatClip(line.slice("user: ".length), 120))
    .slice(-6);
  return [
    "[simulated summary] Offline mode: no model summarised the earlier conversation.",
    questions.length > 0
      ? `The user's latest questions before the recent turns: ${questions.join(" | ")}`
      : "",
  ]
    .filter(Boolean)
    .join("\n");
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

function flatClip(text: string, max: number): string {
  return clip(text.replace(/\s+/g, " ").trim(), max, "…");
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

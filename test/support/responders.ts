import type { FakeReply, FakeResponder, RecordedRequest } from "../fakes/fake-openrouter.ts";

export const models = {
  categorizer: "meta-llama/llama-3.1-8b-instruct",
  categorizerFallback: "meta-llama/llama-3.2-3b-instruct",
  fast: "openai/gpt-oss-safeguard-20b",
  medium: "meta-llama/llama-3.3-70b-instruct",
  thinking: "moonshotai/kimi-k2.6",
  gemini: "google/gemini-3.8-flash",
} as const;

export function lastUserText(request: RecordedRequest): string {
  const last = [...request.body.messages].reverse().find((m) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  return (last.content as Array<{ type: string; text?: string }>)
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n");
}

// Answers like the real models would for routing purposes: the categorizer with a label,
// everyone else with a text that names the model, so tests can see who answered.
export function routingResponder(
  categorizerAnswer: string | ((request: RecordedRequest) => string),
): FakeResponder {
  return (request): FakeReply => {
    if (request.body.model === models.categorizer) {
      const content = typeof categorizerAnswer === "string" ? categorizerAnswer : categorizerAnswer(request);
      return { kind: "text", content, promptTokens: 50, completionTokens: 1, cost: 0.000001 };
    }
    return {
      kind: "text",
      content: `answer from ${request.body.model} to: ${lastUserText(request).slice(0, 60)}`,
      promptTokens: 100,
      completionTokens: 20,
      cost: 0.0002,
    };
  };
}

export function requestsTo(requests: readonly RecordedRequest[], model: string): RecordedRequest[] {
  return requests.filter((r) => r.body.model === model);
}

export function systemText(request: RecordedRequest): string {
  const system = request.body.messages.find((m) => m.role === "system");
  return typeof system?.content === "string" ? system.content : "";
}

export type CallKind = "categorize" | "acknowledge" | "plan" | "task" | "finish" | "explain" | "other";

// Tells which step of the pipeline a request to the fake upstream belongs to, by its model and prompt.
export function callKind(request: RecordedRequest): CallKind {
  const system = systemText(request);
  if (request.body.model === models.categorizer || /classify requests/.test(system)) return "categorize";
  if (/fast-response assistant/.test(system)) return "acknowledge";
  if (/You are the planner/.test(system)) return "plan";
  if (/specialist worker/.test(system)) return "task";
  if (/final answer to the user's request/.test(system)) return "finish";
  if (/workflow working on the user's request failed/.test(system)) return "explain";
  return "other";
}

export const twoStagePlan = {
  workflow: [
    {
      type: "linear",
      tasks: [
        {
          model: "research_ai",
          prompt: "Research: {request}",
          output_variable: "research",
          config: { addons: ["research"] },
        },
        { model: "medium_ai", prompt: "Outline: {request}", output_variable: "outline" },
      ],
    },
    {
      type: "inline",
      tasks: [
        { model: "thinking_ai", prompt: "Write it from {research} and {outline}", output_variable: "draft" },
      ],
    },
  ],
};

// A whole H flow: the categorizer says H, the planner returns `plan`, workers echo their prompt,
// the finisher answers `finalAnswer`. `override` may answer any call first.
export function orchestrationResponder(
  options: {
    plan?: unknown;
    finalAnswer?: string;
    override?: (request: RecordedRequest, kind: CallKind) => FakeReply | undefined;
  } = {},
): FakeResponder {
  return (request) => {
    const kind = callKind(request);
    const overridden = options.override?.(request, kind);
    if (overridden) return overridden;
    switch (kind) {
      case "categorize":
        return { kind: "text", content: "H" };
      case "acknowledge":
        return { kind: "text", content: "On it." };
      case "plan":
        return { kind: "text", content: JSON.stringify(options.plan ?? twoStagePlan) };
      case "task":
        return { kind: "text", content: `output for: ${lastUserText(request).slice(0, 80)}`, cost: 0.001 };
      case "finish":
        return { kind: "text", content: options.finalAnswer ?? "THE FINISHED ANSWER", cost: 0.002 };
      case "explain":
        return { kind: "text", content: "Sorry: the work failed. Please try again later." };
      default:
        return { kind: "text", content: "unexpected call" };
    }
  };
}

// Workflow workers' answers: "done: <prompt>"; "[wait N]" in a prompt delays the answer N ms, "[hang]" never
// answers, "[fail]" is refused with a 400.
export function workerResponder(request: RecordedRequest) {
  const prompt = lastUserText(request);
  const wait = /\[wait (\d+)\]/.exec(prompt);
  if (/\[hang\]/.test(prompt)) return { kind: "hang" } as const;
  if (/\[fail\]/.test(prompt))
    return { kind: "error", status: 400, message: "this prompt is refused" } as const;
  return {
    kind: "text",
    content: `done: ${prompt}`,
    delayMs: wait ? Number(wait[1]) : 0,
    cost: 0.001,
  } as const;
}

// The categorizer labels the request L, but only once the medium model (the likely route's speculative call)
// has been asked; that call never answers, so only its abort ends it; the thinking model answers.
export function refutedSpeculationResponder(): FakeResponder {
  let markAsked: () => void = () => {};
  const mediumAsked = new Promise<void>((resolve) => {
    markAsked = resolve;
  });
  return async (request): Promise<FakeReply> => {
    if (request.body.model === models.categorizer) {
      await mediumAsked;
      return { kind: "text", content: "L", promptTokens: 50, completionTokens: 1, cost: 0.000001 };
    }
    if (request.body.model === models.medium) {
      markAsked();
      return { kind: "hang" };
    }
    return {
      kind: "text",
      content: "the thinking answer",
      promptTokens: 100,
      completionTokens: 30,
      cost: 0.003,
    };
  };
}

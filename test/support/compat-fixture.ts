import { after, before } from "node:test";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { lastUserText } from "./responders.ts";
import { startTestApp, type TestApp } from "./test-app.ts";

// What the client-compatibility tests share: a service with a client key in front of a fake upstream that
// answers like a model would (a tool call when tools are offered, JSON when a schema is asked for), and a
// second service whose rate limit lets one request a minute through per client key, for the 429 case.

export const clientKey = "sk-compat-test-key-000000000001";

// The second service's clients: each SDK flavour is one client, with its own allowance.
const limitedClients = [
  "openai",
  "anthropic",
  "langchain-chat",
  "langchain-responses",
  "responses",
  "chat",
  "compatible",
];
export const limitedKey = (client: (typeof limitedClients)[number]) => `sk-limited-client-${client}-0000`;
export const person = { name: "Ada", age: 36 };
export const personSchema = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "number" } },
  required: ["name", "age"],
  additionalProperties: false,
} as const;

export interface CompatApps {
  readonly main: TestApp;
  readonly limited: TestApp;
  close(): Promise<void>;
}

export async function startCompatApps(): Promise<CompatApps> {
  const main = await startTestApp({ config: { api_keys: { clients: [clientKey] } } });
  const limited = await startTestApp({
    config: {
      api_keys: { clients: limitedClients.map(limitedKey) },
      rateLimits: { clients: { requestsPerMinute: 1 } },
    },
  });
  main.fake?.respondWith(modelLikeResponder);
  limited.fake?.respondWith(modelLikeResponder);
  return {
    main,
    limited,
    close: async () => {
      await main.close();
      await limited.close();
    },
  };
}

// The two services for one describe block: started before its tests and closed after them. Read `main`
// and `limited` inside tests, once the block has started.
export function useCompatApps(): Pick<CompatApps, "main" | "limited"> {
  let apps: CompatApps | undefined;
  before(async () => {
    apps = await startCompatApps();
  });
  after(() => apps?.close());
  const started = () => {
    if (!apps) throw new Error("the compatibility services are read before their describe block started");
    return apps;
  };
  return {
    get main() {
      return started().main;
    },
    get limited() {
      return started().limited;
    },
  };
}

export function modelLikeResponder(request: RecordedRequest): FakeReply {
  const { body } = request;
  const messages = body.messages as Array<{ role: string; content: unknown }>;
  const last = messages.at(-1);
  const tools = body.tools as Array<{ function: { name: string } }> | undefined;
  const usage = { promptTokens: 20, completionTokens: 8, cost: 0.00001 };
  if (last?.role === "tool") {
    return { kind: "text", content: `The weather is ${String(last.content)}.`, ...usage };
  }
  if (tools && tools.length > 0 && body.tool_choice !== "none") {
    return {
      kind: "text",
      content: "",
      toolCalls: [
        { id: "call_weather_1", name: tools[0]?.function.name ?? "", arguments: '{"city":"Paris"}' },
      ],
      finishReason: "tool_calls",
      ...usage,
    };
  }
  const format = body.response_format as { type?: string } | undefined;
  if (format?.type === "json_schema" || format?.type === "json_object") {
    return { kind: "text", content: JSON.stringify(person), ...usage };
  }
  const hasImage = messages.some(
    (m) => Array.isArray(m.content) && m.content.some((p: { type?: string }) => p.type === "image_url"),
  );
  if (hasImage) return { kind: "text", content: "I see a small red square.", ...usage };
  return { kind: "text", content: `You said: ${lastUserText(request)}`, chunkSize: 4, ...usage };
}

// A 1x1 PNG.
export const redPixel =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

import pino, { type Logger } from "pino";
import { currentContext } from "./core/request-context.ts";
import { scrubSecrets } from "./core/secrets.ts";

// Structured JSON logs. Credentials are redacted wherever they could appear; message contents are
// never logged by the service itself. Every line written while serving a request carries its request id
// (and its workflow id inside a workflow), also from background work the request started.
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "orchestrator" },
      mixin: requestFields,
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          'req.headers["x-api-key"]',
          "api_keys",
          "*.api_keys",
          "apiKey",
          "*.apiKey",
        ],
        censor: "[redacted]",
      },
      // The last line of defence: a key that reached a log line anyway (inside an error's cause, say).
      hooks: { streamWrite: scrubSecrets },
    },
    destination,
  );
}

function requestFields(): Record<string, string> {
  const context = currentContext();
  if (!context) return {};
  return context.workflowId
    ? { request_id: context.requestId, workflow_id: context.workflowId }
    : { request_id: context.requestId };
}

import pino, { type Logger } from "pino";

// Structured JSON logs. Credentials are redacted wherever they could appear; message contents are
// never logged by the service itself.
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "orchestrator" },
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
    },
    destination,
  );
}

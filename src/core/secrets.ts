// Credentials must never leave through a response or a log line, even when an upstream echoes one back
// ("Incorrect API key provided: Bearer sk-or-..."). Upstream text is scrubbed where it enters the service,
// and responses and log lines are scrubbed again on the way out.

const redacted = "[redacted]";

// The configured keys themselves (the service's upstream keys and its client keys).
const knownSecrets = new Set<string>();

// Key-shaped strings, whoever's they are.
const secretPatterns: ReadonlyArray<readonly [RegExp, string]> = [
  // Authorization header values: "Bearer <token>".
  [/\b(Bearer\s+)[\w.~+/=-]{6,}/gi, `$1${redacted}`],
  // OpenAI-style secret keys (sk-..., sk-or-v1-..., sk-proj-..., sk-ant-...).
  [/\bsk-[\w-]{12,}/g, redacted],
  // Google API keys.
  [/\bAIza[\w-]{30,}/g, redacted],
  // Keys in query strings and in header-like "name: value" text.
  [/([?&](?:key|api_key|apikey|access_token|token)=)[^&\s"']+/gi, `$1${redacted}`],
  [/\b((?:x-goog-api-key|x-api-key|api-key)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, `$1${redacted}`],
];

// Every pattern at once, case-insensitive (a superset of what they match): most text, a log line above
// all, holds none of them and is then passed through after one scan instead of one per pattern.
const anySecretShape = new RegExp(secretPatterns.map(([pattern]) => `(?:${pattern.source})`).join("|"), "i");

export function registerSecrets(values: Iterable<string>): void {
  // Very short values would redact ordinary words; real keys are long.
  for (const value of values) if (value.length >= 8) knownSecrets.add(value);
}

export function scrubSecrets(text: string): string {
  let scrubbed = text;
  for (const secret of knownSecrets) {
    if (scrubbed.includes(secret)) scrubbed = scrubbed.replaceAll(secret, redacted);
  }
  if (!anySecretShape.test(scrubbed)) return scrubbed;
  for (const [pattern, replacement] of secretPatterns) scrubbed = scrubbed.replace(pattern, replacement);
  return scrubbed;
}

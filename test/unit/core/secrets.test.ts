import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { registerSecrets, scrubSecrets } from "../../../src/core/secrets.ts";

describe("scrubSecrets", () => {
  it("removes configured keys and key-shaped strings, and keeps the rest of the text", () => {
    registerSecrets(["my-very-own-client-key-123", "short"]);
    const cases: ReadonlyArray<[string, string]> = [
      ["Incorrect API key provided: Bearer abc.def-123456", "Incorrect API key provided: Bearer [redacted]"],
      ["key sk-or-v1-0123456789abcdef is wrong", "key [redacted] is wrong"],
      ["key AIzaSyA0123456789abcdefghijklmnopqrstu rejected", "key [redacted] rejected"],
      [
        "GET https://x.example/v1?key=secret123&alt=media",
        "GET https://x.example/v1?key=[redacted]&alt=media",
      ],
      ['{"x-goog-api-key": "abc123456"}', '{"x-goog-api-key": "[redacted]"}'],
      ["client my-very-own-client-key-123 refused", "client [redacted] refused"],
      ["a short answer about tasks and skills", "a short answer about tasks and skills"],
    ];
    for (const [input, expected] of cases) assert.equal(scrubSecrets(input), expected, input);
  });
});

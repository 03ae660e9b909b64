import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("bad input on /chat", () => {
  let t: TestApp;
  const sessionId = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c";

  before(async () => {
    t = await startTestApp({ config: { system: { maxBodyBytes: 64 * 1024 } } });
  });
  after(() => t.close());

  const refusals: ReadonlyArray<[string, unknown, number, string, RegExp]> = [
    ["malformed JSON", '{"message": "hi",', 400, "invalid_json", /not valid JSON/],
    ["a JSON array", "[1,2]", 400, "invalid_request", /JSON object/],
    ["a missing message", { session_id: sessionId }, 400, "invalid_request", /^message: is required/],
    [
      "an empty message",
      { message: "   ", session_id: sessionId },
      400,
      "invalid_request",
      /^message: must not be empty/,
    ],
    [
      "a message of the wrong type",
      { message: 42, session_id: sessionId },
      400,
      "invalid_request",
      /^message: must be a string/,
    ],
    [
      "a session id with characters outside [A-Za-z0-9._:-]",
      { message: "hi", session_id: "a/b c" },
      400,
      "invalid_request",
      /^session_id: must be 1 to 128 letters, digits or \. _ : -/,
    ],
    [
      "negative context tokens",
      { message: "hi", context_tokens: -5, session_id: sessionId },
      400,
      "invalid_request",
      /^context_tokens: must not be negative/,
    ],
    [
      "context tokens as text",
      { message: "hi", context_tokens: "many", session_id: sessionId },
      400,
      "invalid_request",
      /^context_tokens/,
    ],
    [
      "an image that is not a URL",
      { message: "hi", images: ["file:///etc/passwd"], session_id: sessionId },
      400,
      "invalid_request",
      /^images\[0\]: must be an http/,
    ],
    [
      "images as a string",
      { message: "hi", images: "https://x/y.png", session_id: sessionId },
      400,
      "invalid_request",
      /^images: must be an array/,
    ],
  ];

  for (const [what, body, status, code, message] of refusals) {
    it(`refuses ${what} with ${status} naming the problem`, async () => {
      const res = await t.post("/chat", body);
      assert.equal(res.status, status);
      assert.equal(res.body.error.type, "logical");
      assert.equal(res.body.error.code, code);
      assert.equal(res.body.error.retryable, false);
      assert.match(res.body.error.message, message);
    });
  }

  it("names the field in a separate property", async () => {
    const res = await t.post("/chat", { message: "hi", session_id: "no pe" });
    assert.equal(res.body.error.field, "session_id");
  });

  it("refuses an oversized body with 413", async () => {
    const res = await t.post("/chat", { message: "x".repeat(100 * 1024), session_id: sessionId });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, "body_too_large");
  });

  it("refuses a body that is not JSON with 415", async () => {
    const res = await t.post("/chat", "message=hi", { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(res.status, 415);
    assert.equal(res.body.error.code, "unsupported_media_type");
  });

  it("wrote nothing and called no model for any refused request", async () => {
    assert.equal((await t.get(`/sessions/${sessionId}`)).status, 404);
    assert.equal(t.fake?.requests.length, 0);
  });

  it("answers unknown paths and ids with clear 404s and malformed ids with 400s", async () => {
    const unknownPath = await t.get("/nope");
    assert.equal(unknownPath.status, 404);
    assert.match(unknownPath.body.error.message, /GET \/nope/);
    assert.equal((await t.get(`/sessions/${sessionId}`)).body.error.code, "not_found");
    assert.equal((await t.get(`/sessions/${"x".repeat(129)}`)).status, 400);
    assert.equal((await t.get(`/workflow/${sessionId}`)).status, 404);
    assert.equal((await t.get("/workflow/xyz")).status, 400);
  });
});

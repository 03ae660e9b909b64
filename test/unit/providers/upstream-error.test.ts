import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyUpstreamError, parseRetryAfter } from "../../../src/providers/upstream-error.ts";
import {
  encodeJson,
  RequestBuildError,
  UpstreamHttpError,
  UpstreamProtocolError,
} from "../../../src/providers/upstream-http.ts";

const context = { provider: "openrouter", model: "m/x", timedOut: false };

function apiError(status: number, message: string, headers: Record<string, string> = {}) {
  return new UpstreamHttpError(
    status,
    JSON.stringify({ error: { message, code: status } }),
    headers["retry-after"] ?? null,
  );
}

describe("classifyUpstreamError", () => {
  const cases: ReadonlyArray<[number, string, string, number]> = [
    [429, "transient", "upstream_rate_limited", 503],
    [503, "transient", "upstream_unavailable", 503],
    [408, "transient", "upstream_unavailable", 503],
    [500, "transient", "upstream_error", 502],
    [502, "transient", "upstream_error", 502],
    [504, "transient", "upstream_error", 502],
    [401, "persistent", "upstream_auth_failed", 502],
    [403, "persistent", "upstream_auth_failed", 502],
    [402, "persistent", "upstream_payment_required", 502],
    [404, "persistent", "upstream_model_not_found", 502],
  ];
  for (const [status, kind, code, httpStatus] of cases) {
    it(`maps upstream ${status} to ${kind}/${code}`, () => {
      const error = classifyUpstreamError(apiError(status, `boom ${status}`), context);
      assert.equal(error.kind, kind);
      assert.equal(error.code, code);
      assert.equal(error.status, httpStatus);
      assert.equal(error.upstreamStatus, status);
      assert.equal(error.retryable, kind === "transient");
      assert.match(error.message, new RegExp(`boom ${status}`));
      assert.equal(error.model, "m/x");
    });
  }

  it("reads context-length refusals as resource errors", () => {
    const error = classifyUpstreamError(
      apiError(400, "This model's maximum context length is 8192 tokens"),
      context,
    );
    assert.equal(error.kind, "resource");
  });

  it("keeps Retry-After", () => {
    assert.equal(
      classifyUpstreamError(apiError(429, "slow down", { "retry-after": "7" }), context).retryAfterMs,
      7000,
    );
  });

  it("tells timeouts, cancellations, network failures and broken answers apart", () => {
    const aborted = new DOMException("This operation was aborted", "AbortError");
    assert.equal(classifyUpstreamError(aborted, { ...context, timedOut: true }).code, "upstream_timeout");
    assert.equal(classifyUpstreamError(aborted, { ...context, cancelled: true }).code, "cancelled");
    const reset = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    const network = classifyUpstreamError(reset, context);
    assert.equal(network.kind, "transient");
    assert.equal(network.code, "upstream_unreachable");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(classifyUpstreamError(refused, context).code, "upstream_unreachable");
    const broken = classifyUpstreamError(new UpstreamProtocolError("the answer is not JSON"), context);
    assert.equal(broken.code, "upstream_malformed");
    assert.equal(broken.kind, "transient");
  });

  it("reads a request that could not be built as logical, never retried, nothing sent", () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    let thrown: unknown;
    try {
      encodeJson(deep);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof RequestBuildError);
    const tooDeep = classifyUpstreamError(thrown, context);
    assert.deepEqual(
      [tooDeep.kind, tooDeep.code, tooDeep.status, tooDeep.retryable],
      ["logical", "request_too_complex", 400, false],
    );
    assert.match(tooDeep.message, /nothing was sent/);
    const bug = classifyUpstreamError(new RequestBuildError(new TypeError("x is undefined")), context);
    assert.deepEqual(
      [bug.kind, bug.code, bug.status, bug.retryable],
      ["logical", "request_build_failed", 500, false],
    );
  });

  it("reads the reason from a JSON error body, or from the text when it is not JSON", () => {
    assert.match(classifyUpstreamError(apiError(500, "model crashed"), context).message, /model crashed/);
    const html = new UpstreamHttpError(502, "<html>Bad Gateway</html>", null);
    assert.match(classifyUpstreamError(html, context).message, /Bad Gateway/);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    assert.equal(parseRetryAfter("2"), 2000);
    assert.equal(parseRetryAfter("0.5"), 500);
    assert.equal(parseRetryAfter(new Date(61_000).toUTCString(), 1_000), 60_000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
  });
});

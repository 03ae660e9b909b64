import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routeHeader } from "../../../src/routing/route-trace.ts";

describe("the route header", () => {
  it("says in one line what decided", () => {
    assert.equal(
      routeHeader({
        rule: "category",
        category: "M",
        role: "thinking_ai",
        labelSource: "model",
        categorizerMs: 211.6,
        speculation: "refuted",
        skipped: [{ role: "medium_ai", reason: "no_tools" }],
      }),
      "rule=category; category=M; label=model; categorizer_ms=212; speculation=refuted; skipped=medium_ai:no_tools; pick=thinking_ai",
    );
    assert.equal(
      routeHeader({ rule: "explicit", category: null, role: "fast_ai" }),
      "rule=explicit; pick=fast_ai",
    );
  });

  it("names the provider of the deployment that answered, once it is known", () => {
    assert.equal(
      routeHeader({ rule: "explicit", category: null, role: "pool_ai", provider: "local" }),
      "rule=explicit; pick=pool_ai; provider=local",
    );
  });

  it("stays printable and bounded whatever the role names", () => {
    const header = routeHeader({ rule: "category", category: "M", role: `ü${"r".repeat(2000)}` });
    assert.ok(header.length <= 512);
    assert.match(header, /^[\x20-\x7e]+$/);
  });
});

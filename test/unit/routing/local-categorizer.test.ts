import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { categorizeLocally } from "../../../src/routing/local-categorizer.ts";

describe("categorizeLocally", () => {
  it("labels the spec's simple query M", () => {
    assert.equal(categorizeLocally("What are the benefits of renewable energy?"), "M");
    assert.equal(categorizeLocally("Hi there!"), "M");
  });

  it("labels the spec's multi-part task H", () => {
    assert.equal(
      categorizeLocally(
        "Create a complete marketing campaign for eco-friendly water bottles including social media posts, product images, and a promotional video",
      ),
      "H",
    );
    assert.equal(
      categorizeLocally("Write a research report, an executive presentation and a blog post about EVs"),
      "H",
    );
  });

  it("labels a single hard task L", () => {
    assert.equal(categorizeLocally("Prove that the square root of 2 is irrational"), "L");
    assert.equal(categorizeLocally("Debug this:\n```js\nconst x = [1,2].map(x => x.y)\n```"), "L");
    assert.equal(categorizeLocally("Write a blog post about tea"), "L");
  });
});

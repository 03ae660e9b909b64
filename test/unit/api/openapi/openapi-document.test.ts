import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildOpenApiDocument } from "../../../../src/api/openapi/openapi-document.ts";

describe("buildOpenApiDocument", () => {
  it("makes a client key required only when client keys are configured", () => {
    const open = buildOpenApiDocument({ version: "1.0.0", clientKeys: false }) as any;
    const keyed = buildOpenApiDocument({ version: "1.0.0", clientKeys: true }) as any;
    assert.ok(open.security.some((requirement: object) => Object.keys(requirement).length === 0));
    assert.ok(keyed.security.every((requirement: object) => Object.keys(requirement).length === 1));
    assert.equal(
      keyed.paths["/chat"].post.responses["401"].content["application/json"].schema.$ref,
      "#/components/schemas/Error",
    );
    assert.equal(keyed.paths["/health"].get.responses["401"], undefined);
  });

  it("answers each family's errors in its own shape", () => {
    const doc = buildOpenApiDocument({ version: "1.0.0", clientKeys: false }) as any;
    const errorOf = (path: string) =>
      doc.paths[path].post.responses["400"].content["application/json"].schema.$ref;
    assert.equal(errorOf("/chat"), "#/components/schemas/Error");
    assert.equal(errorOf("/v1/chat/completions"), "#/components/schemas/OpenAiError");
    assert.equal(errorOf("/v1/messages"), "#/components/schemas/AnthropicError");
  });

  it("describes request bodies as accepted and documented-but-refused fields as null only", () => {
    const doc = buildOpenApiDocument({ version: "1.0.0", clientKeys: false }) as any;
    const responses = doc.components.schemas.ResponsesRequest;
    assert.deepEqual(responses.required, ["model", "input"]);
    assert.equal(responses.additionalProperties, false);
    assert.equal(responses.properties.conversation.type, "null");
    assert.equal(doc.servers[0].url, "/");
  });
});

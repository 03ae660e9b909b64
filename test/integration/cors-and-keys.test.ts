import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { parseConfig } from "../../src/config/index.ts";
import { routingResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const key = "sk-orchestrator-cors-test-key";

describe("CORS and client key headers", () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ config: { api_keys: { clients: [key] } } });
    t.fake?.respondWith(routingResponder("M"));
  });
  after(() => t.close());

  const chat = (headers: Record<string, string>) =>
    fetch(`${t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "medium_ai", messages: [{ role: "user", content: "hi" }] }),
    });

  it("answers a browser's preflight before the key check, for any origin by default", async () => {
    const response = await fetch(`${t.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.match(response.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(response.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.equal(response.headers.get("access-control-allow-credentials"), null, "no credentials mode");
  });

  it("lets a page read answers and refusals, with the orchestrator headers exposed", async () => {
    const allowed = await chat({ origin: "https://app.example.com", authorization: `Bearer ${key}` });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("access-control-allow-origin"), "*");
    assert.match(allowed.headers.get("access-control-expose-headers") ?? "", /x-orchestrator-model/);
    const refused = await chat({ origin: "https://app.example.com" });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("access-control-allow-origin"), "*");
  });

  it("accepts the key as Authorization: Bearer, x-api-key or api-key, and refuses a wrong one in any", async () => {
    const ways: Record<string, string>[] = [
      { authorization: `Bearer ${key}` },
      { "x-api-key": key },
      { "api-key": key },
    ];
    for (const headers of ways) {
      assert.equal((await chat(headers)).status, 200, JSON.stringify(Object.keys(headers)));
    }
    const wrong: Record<string, string>[] = [
      { authorization: "Bearer sk-wrong-key-0000000000" },
      { "x-api-key": "sk-wrong-key-0000000000" },
      { "api-key": "sk-wrong-key-0000000000" },
    ];
    for (const headers of wrong) {
      const refused = await chat(headers);
      assert.equal(refused.status, 401);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "invalid_api_key");
      assert.ok(!body.error.message.includes("sk-wrong"), "the presented key is not echoed");
    }
    const sdk = new OpenAI({ apiKey: "sk-wrong-key-0000000000", baseURL: `${t.url}/v1`, maxRetries: 0 });
    await assert.rejects(sdk.models.list(), OpenAI.AuthenticationError);
  });
});

describe("CORS with a list of origins", () => {
  it("allows only the listed origins, and none with an empty list", async () => {
    const t = await startTestApp({ config: { system: { corsOrigins: ["https://app.example.com"] } } });
    const off = await startTestApp({ config: { system: { corsOrigins: [] } } });
    try {
      const from = async (app: TestApp, origin: string) =>
        (await fetch(`${app.url}/v1/models`, { headers: { origin } })).headers.get(
          "access-control-allow-origin",
        );
      assert.equal(await from(t, "https://app.example.com"), "https://app.example.com");
      assert.equal(await from(t, "https://evil.example.net"), null);
      assert.equal(await from(off, "https://app.example.com"), null);
    } finally {
      await t.close();
      await off.close();
    }
  });

  it("refuses an origin that is not one", () => {
    assert.throws(
      () => parseConfig({ system: { corsOrigins: ["app.example.com/path"] } }),
      /system\.corsOrigins\.0/,
    );
  });
});

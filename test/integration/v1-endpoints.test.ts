import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeGoogleAi, fakePng, startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { eventually } from "../support/eventually.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("/v1 embeddings, images and models", () => {
  let google: FakeGoogleAi;
  let t: TestApp;
  let client: OpenAI;

  before(async () => {
    google = await startFakeGoogleAi();
    t = await startTestApp({ google });
    client = new OpenAI({ apiKey: "unused-locally", baseURL: `${t.url}/v1`, maxRetries: 0 });
  });
  after(async () => {
    await t.close();
    await google.close();
  });

  it("makes embeddings through embedding_ai, float or base64, priced in the ledger", async () => {
    // The SDK asks for base64 by default and decodes it.
    const decoded = await client.embeddings.create({
      model: "embedding_ai",
      input: ["first text", "second"],
    });
    assert.equal(decoded.data.length, 2);
    assert.equal(decoded.data[1]?.index, 1);
    assert.equal(decoded.data[0]?.embedding.length, 8);
    assert.equal(decoded.model, "openai/text-embedding-3-small");
    assert.equal(decoded.usage.prompt_tokens, 3);
    const sent = t.fake?.requests.at(-1);
    assert.equal(sent?.path, "/api/v1/embeddings");
    assert.equal(sent?.body.encoding_format, "float");
    const floats = await t.post("/v1/embeddings", {
      model: "embedding_ai",
      input: "first text",
      encoding_format: "float",
      dimensions: 4,
    });
    assert.equal(floats.status, 200);
    assert.equal(floats.body.data[0].embedding.length, 4);
    assert.deepEqual(
      floats.body.data[0].embedding.map((v: number) => Math.fround(v)),
      decoded.data[0]?.embedding.slice(0, 4),
    );
    assert.equal(floats.body.orchestrator.role, "embedding_ai");
    const stats = await eventually("the embedding's cost in /stats", async () => {
      const res = await t.get("/stats");
      return res.body.cost.by_model["openai/text-embedding-3-small"] > 0 ? res.body : undefined;
    });
    assert.equal(stats.cost.by_model["openai/text-embedding-3-small"], 0.0000001);
  });

  it("refuses what it cannot embed", async () => {
    await assert.rejects(
      client.embeddings.create({ model: "medium_ai", input: "x" }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && /not an embedding model/.test(error.message),
    );
    const tokens = await t.post("/v1/embeddings", { model: "embedding_ai", input: [[1, 2, 3]] });
    assert.equal(tokens.status, 400);
    assert.equal(tokens.body.error.param, "input");
    const empty = await t.post("/v1/embeddings", { model: "embedding_ai", input: [] });
    assert.equal(empty.status, 400);
    t.fake?.enqueue({ kind: "error", status: 400, message: "input too long" });
    await assert.rejects(client.embeddings.create({ model: "embedding_ai", input: "x" }), /input too long/);
  });

  it("generates images with the image role, inline or as a URL under /artifacts", async () => {
    const inline = await client.images.generate({ prompt: "a red square", response_format: "b64_json" });
    assert.deepEqual(Buffer.from(inline.data?.[0]?.b64_json ?? "", "base64"), fakePng);
    const linked = await client.images.generate({ prompt: "a red square", n: 2 });
    assert.equal(linked.data?.length, 2);
    const url = linked.data?.[0]?.url ?? "";
    // Relative: no system.publicUrl is set, and the request's Host header never decides it.
    assert.match(url, /^\/artifacts\/[0-9a-f-]{36}$/);
    const image = await fetch(`${t.url}${url}`);
    assert.equal(image.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await image.arrayBuffer()), fakePng);
    const extension = (linked as unknown as { orchestrator: { role: string; cost_usd: number } })
      .orchestrator;
    assert.equal(extension.role, "image_generation_ai");
    assert.equal(extension.cost_usd, 0.0672, "two images at $0.0336");
    await assert.rejects(client.images.generate({ prompt: "x", model: "medium_ai" }), OpenAI.NotFoundError);
    await assert.rejects(client.images.generate({ prompt: "x", n: 9 }), OpenAI.BadRequestError);
  });

  it("lists models with context_length, pricing and a stable created, without the internal roles", async () => {
    const first = await client.models.list();
    const ids = first.data.map((m) => m.id);
    for (const id of ["auto", "medium_ai", "research_ai", "embedding_ai", "image_generation_ai"]) {
      assert.ok(ids.includes(id), id);
    }
    for (const id of ["categorizer_ai", "finished_task_ai", "workers_failed_ai", "video_generation_ai"]) {
      assert.ok(!ids.includes(id), id);
    }
    const medium = first.data.find((m) => m.id === "medium_ai") as unknown as Record<string, any>;
    assert.equal(medium.context_length, 131072);
    assert.deepEqual(medium.pricing, { prompt: "0.0000001", completion: "0.00000032" });
    const again = await client.models.list();
    assert.deepEqual(
      again.data.map((m) => m.created),
      first.data.map((m) => m.created),
    );
    assert.equal((await client.models.retrieve("medium_ai")).id, "medium_ai");
    const upstream = await client.models.retrieve("meta-llama/llama-3.3-70b-instruct");
    assert.equal(upstream.owned_by, "meta-llama");
    await assert.rejects(client.models.retrieve("no_such_model"), OpenAI.NotFoundError);
    await assert.rejects(client.models.retrieve("categorizer_ai"), OpenAI.NotFoundError);
  });
});

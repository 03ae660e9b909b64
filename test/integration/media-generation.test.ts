import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeGoogleAi, fakeMp4, fakePng, startFakeGoogleAi } from "../fakes/fake-google-ai.ts";
import { type FakeOpenRouter, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { workerResponder } from "../support/responders.ts";
import { startTestApp } from "../support/test-app.ts";

const imageTask = (prompt: string) => ({
  workflow: [{ type: "inline", tasks: [{ model: "image_generation_ai", prompt, output_variable: "image" }] }],
});
const videoTask = (prompt: string) => ({
  workflow: [{ type: "inline", tasks: [{ model: "video_generation_ai", prompt, output_variable: "video" }] }],
});
const imagen = (model: string) => ({
  model,
  pricing: { inputPerMillion: 0, outputPerMillion: 0, perImage: 0.04 },
});
const pathsOf = (google: FakeGoogleAi) =>
  google.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, "ID")}`);

describe("image and video generation on today's Google AI", () => {
  let fake: FakeOpenRouter;
  let google: FakeGoogleAi;

  before(async () => {
    fake = await startFakeOpenRouter({ responder: workerResponder });
    google = await startFakeGoogleAi();
  });
  after(async () => {
    await fake.close();
    await google.close();
  });

  it("makes images with Gemini's native image model through generateContent, and runs marketing_campaign", async () => {
    const t = await startTestApp({ fake, google });
    try {
      const res = await t.post("/template/marketing_campaign", { product: "eco-friendly water bottles" });
      assert.equal(res.body.status, "completed", JSON.stringify(res.body.error ?? res.body.tasks));
      const image = await fetch(`${t.url}${res.body.outputs.product_image}`);
      assert.equal(image.headers.get("content-type"), "image/png");
      assert.deepEqual(Buffer.from(await image.arrayBuffer()), fakePng);
      const call = google.requests.find((r) => r.path.endsWith(":generateContent"));
      assert.equal(call?.path, "/v1beta/models/gemini-nano-banana-2.1:generateContent");
      assert.deepEqual((call?.body as { generationConfig?: unknown } | undefined)?.generationConfig, {
        responseModalities: ["IMAGE"],
      });
    } finally {
      await t.close();
    }
  });

  it("fails clearly on a retired id: Imagen 4 on the Gemini API answers 404", async () => {
    const t = await startTestApp({
      fake,
      google,
      config: { models: { image_generation_ai: imagen("imagen-4.0-ultra-generate-001") } },
    });
    try {
      const res = await t.post("/workflow", imageTask("a red bottle"));
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.error.code, "upstream_model_not_found");
      assert.match(res.body.error.message, /404/);
    } finally {
      await t.close();
    }
  });

  it("keeps :predict as a mode for deployments that still have Imagen (Vertex AI)", async () => {
    google.imagenServed = true;
    const t = await startTestApp({
      fake,
      google,
      config: { models: { image_generation_ai: imagen("imagen-4.0-generate-001") } },
    });
    try {
      const before = google.requests.length;
      const res = await t.post("/workflow", imageTask("a blue bottle"));
      assert.equal(res.body.status, "completed");
      assert.deepEqual(pathsOf(google).slice(before), [
        "POST /v1beta/models/imagen-4.0-generate-001:predict",
      ]);
    } finally {
      google.imagenServed = false;
      await t.close();
    }
  });

  it("reports a refused prompt once, without retrying it or counting it against the model", async () => {
    const t = await startTestApp({
      fake,
      google,
      config: { errorHandling: { circuitBreaker: { failureThreshold: 1 } } },
    });
    try {
      google.blockNextImage("PROHIBITED_CONTENT");
      const before = google.requests.length;
      const res = await t.post("/workflow", imageTask("something not allowed"));
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.error.code, "generation_refused");
      assert.match(res.body.error.message, /PROHIBITED_CONTENT/);
      assert.equal(google.requests.length - before, 1, "a refusal is not retried");
      const next = await t.post("/workflow", imageTask("a green bottle"));
      assert.equal(next.body.status, "completed", "the circuit stayed closed");
    } finally {
      await t.close();
    }
  });

  it("makes videos with the generally available Veo id, downloaded or inline, and reports filtered ones", async () => {
    const t = await startTestApp({ fake, google });
    try {
      google.inlineVideos = true;
      const inline = await t.post("/workflow", videoTask("a bottle on a beach"));
      assert.equal(inline.body.status, "completed");
      const video = await fetch(`${t.url}${inline.body.outputs.video}`);
      assert.equal(video.headers.get("content-type"), "video/mp4");
      assert.deepEqual(Buffer.from(await video.arrayBuffer()), fakeMp4);
      assert.ok(pathsOf(google).includes("POST /v1beta/models/veo-3.1-generate-001:predictLongRunning"));
      assert.equal(inline.body.tasks[0].usage.cost_usd, 3.2, "8 seconds at $0.40");

      google.inlineVideos = false;
      google.filterNextVideo("The video was filtered for containing a child.");
      const filtered = await t.post("/workflow", videoTask("a playground"));
      assert.equal(filtered.body.status, "failed");
      assert.equal(filtered.body.error.code, "generation_refused");
      assert.match(filtered.body.error.message, /filtered/);
    } finally {
      google.inlineVideos = false;
      await t.close();
    }
  });
});

describe("images through OpenRouter", () => {
  it("lets a deployment with only an OpenRouter key make images (modalities, message.images)", async () => {
    const fake = await startFakeOpenRouter({ responder: workerResponder });
    const t = await startTestApp({
      fake,
      config: {
        models: {
          image_generation_ai: {
            provider: "openrouter",
            model: "google/gemini-nano-banana-2.1",
            pricing: { inputPerMillion: 0, outputPerMillion: 0, perImage: 0.04 },
          },
        },
      },
    });
    try {
      fake.respondWith(() => ({ kind: "text", content: "Here is your bottle.", cost: 0.0351 }));
      const res = await t.post("/workflow", imageTask("a red bottle"));
      assert.equal(res.body.status, "completed", JSON.stringify(res.body.error));
      const image = await fetch(`${t.url}${res.body.outputs.image}`);
      assert.equal(image.headers.get("content-type"), "image/png");
      assert.deepEqual(Buffer.from(await image.arrayBuffer()), fakePng);
      const sent = fake.requests.find((r) => r.body.model === "google/gemini-nano-banana-2.1");
      assert.deepEqual(sent?.body.modalities, ["image", "text"]);
      assert.equal(res.body.tasks[0].usage.cost_usd, 0.0351, "priced from the upstream's usage.cost");

      fake.respondWith(() => ({ kind: "text", content: "I can't draw that.", images: false }));
      const refused = await t.post("/workflow", imageTask("something else"));
      assert.equal(refused.body.status, "failed");
      assert.equal(refused.body.error.code, "generation_refused");
      assert.match(refused.body.error.message, /I can't draw that/);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("says how to make images when no Google key is set", async () => {
    const t = await startTestApp();
    try {
      const res = await t.post("/workflow", imageTask("x"));
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.error.code, "provider_not_configured");
      assert.match(res.body.error.message, /GOOGLE_AI_API_KEY/);
      assert.match(res.body.error.message, /openrouter/);
    } finally {
      await t.close();
    }
  });
});

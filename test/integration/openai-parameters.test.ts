import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useFakeOpenRouterApp } from "../support/fake-openrouter-app.ts";

const messages = [{ role: "user", content: "Say hi." }];

describe("every OpenAI parameter reaches the upstream", () => {
  const app = useFakeOpenRouterApp();

  it("forwards each documented parameter under its wire name, and returns the log probabilities", async () => {
    app.fake.clear();
    const logprobs = { content: [{ token: "Hi", logprob: -0.01, bytes: [72, 105], top_logprobs: [] }] };
    app.fake.respondWith(() => ({ kind: "text", content: "Hi", logprobs }));
    const params = {
      seed: 7,
      top_p: 0.9,
      top_k: 40,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      repetition_penalty: 1.1,
      logit_bias: { "50256": -100 },
      logprobs: true,
      top_logprobs: 2,
      parallel_tool_calls: false,
      metadata: { ticket: "T-1" },
      prediction: { type: "content", content: "Hi there" },
      service_tier: "flex",
      verbosity: "low",
      provider: { order: ["fake"], allow_fallbacks: false },
      transforms: ["middle-out"],
      models: ["meta-llama/llama-3.1-70b-instruct"],
      route: "fallback",
    };
    const res = await app.t.post("/v1/chat/completions", {
      model: "medium_ai",
      messages,
      n: 1,
      stop: "END",
      reasoning_effort: "low",
      ...params,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const sent: Record<string, unknown> = app.fake.requests.at(-1)?.body ?? {};
    for (const [name, value] of Object.entries(params)) assert.deepEqual(sent[name], value, name);
    assert.deepEqual(sent.stop, ["END"]);
    assert.deepEqual(sent.reasoning, { effort: "low" }, "reasoning_effort becomes OpenRouter's reasoning");
    assert.equal(sent.n, undefined, "n: 1 is the upstream's default");
    assert.deepEqual(res.body.choices[0].logprobs, logprobs);
  });

  it("forwards them on streamed requests too, and OpenRouter's reasoning object as given", async () => {
    app.fake.clear();
    app.fake.respondWith(() => ({ kind: "text", content: "Hi" }));
    const response = await fetch(`${app.t.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "medium_ai",
        messages,
        stream: true,
        seed: 3,
        top_p: 0.5,
        reasoning: { max_tokens: 2000, exclude: false },
      }),
    });
    assert.equal(response.status, 200);
    await response.text();
    const sent: Record<string, unknown> = app.fake.requests.at(-1)?.body ?? {};
    assert.equal(sent.seed, 3);
    assert.equal(sent.top_p, 0.5);
    assert.deepEqual(sent.reasoning, { max_tokens: 2000, exclude: false });
  });

  it("refuses with 400, naming the parameter, what it cannot honour", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n: 2 }, "n"],
      [{ modalities: ["text", "audio"] }, "modalities"],
      [{ store: true }, "store"],
      [{ stream: true, logprobs: true }, "logprobs"],
      [{ top_logprobs: 3 }, "top_logprobs"],
      [{ reasoning_effort: "high", reasoning: { effort: "low" } }, "reasoning_effort"],
    ];
    for (const [extra, field] of cases) {
      app.fake.clear();
      const res = await app.t.post("/v1/chat/completions", { model: "medium_ai", messages, ...extra });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.param ?? res.body.error.field, field, JSON.stringify(res.body));
      assert.equal(app.fake.requests.length, 0, "nothing was sent upstream");
    }
  });

  it("refuses mistyped and unknown parameters with 400 naming them", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ top_p: 2 }, /top_p/],
      [{ seed: "seven" }, /seed/],
      [{ logit_bias: { hello: 5 } }, /logit_bias/],
      [{ presence_penalty: 3 }, /presence_penalty/],
      [{ service_tier: "fastest" }, /service_tier/],
      [{ route: "cheapest" }, /route/],
      [{ temprature: 0.2 }, /temprature/],
    ];
    for (const [extra, named] of cases) {
      const res = await app.t.post("/v1/chat/completions", { model: "medium_ai", messages, ...extra });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.match(JSON.stringify(res.body.error), named);
    }
  });

  it("keeps answers that differ by a parameter apart in the response cache", async () => {
    app.fake.clear();
    let answer = 0;
    app.fake.respondWith(() => ({ kind: "text", content: `answer ${++answer}` }));
    const ask = (seed: number) =>
      app.t.post("/v1/chat/completions", { model: "medium_ai", messages, temperature: 0, seed });
    const first = await ask(1);
    const second = await ask(2);
    assert.notEqual(first.body.choices[0].message.content, second.body.choices[0].message.content);
    assert.equal(app.fake.requests.length, 2);
  });
});

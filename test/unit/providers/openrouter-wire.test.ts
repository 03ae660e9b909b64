import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatMessage } from "../../../src/providers/chat-provider.ts";
import { chatBody, toWireMessage } from "../../../src/providers/openrouter/wire-request.ts";
import { cacheTokens, readUsage } from "../../../src/providers/openrouter/wire-usage.ts";

describe("OpenRouter wire mapping: prompt caching", () => {
  it("reads cached and cache-write tokens from usage.prompt_tokens_details, inside prompt_tokens", () => {
    assert.deepEqual(
      readUsage({
        prompt_tokens: 194,
        completion_tokens: 2,
        prompt_tokens_details: { cached_tokens: 90, cache_write_tokens: 100 },
      }),
      { promptTokens: 194, completionTokens: 2, cacheReadTokens: 90, cacheWriteTokens: 100 },
    );
    // Zeros and absent details add nothing.
    assert.deepEqual(
      readUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } }),
      {
        promptTokens: 5,
        completionTokens: 1,
      },
    );
    assert.deepEqual(readUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: null }), {
      promptTokens: 5,
      completionTokens: 1,
    });
  });

  it("never lets the cache counts pass the prompt or be anything but whole tokens", () => {
    assert.deepEqual(cacheTokens(100, { cached_tokens: 150, cache_write_tokens: 10 }), {
      cacheReadTokens: 100,
      cacheWriteTokens: 0,
    });
    assert.deepEqual(cacheTokens(100, { cached_tokens: 60, cache_write_tokens: 70 }), {
      cacheReadTokens: 60,
      cacheWriteTokens: 40,
    });
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e300]) {
      assert.deepEqual(cacheTokens(100, { cached_tokens: bad, cache_write_tokens: bad }), {
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      });
    }
  });

  it("puts a part's breakpoint on that part and a message's on its last text part", () => {
    const user: ChatMessage = {
      role: "user",
      content: [
        { type: "text", text: "a", cacheControl: { type: "ephemeral" } },
        { type: "text", text: "b" },
        { type: "image", url: "https://example.test/i.png" },
      ],
      cacheControl: { type: "ephemeral", ttl: "1h" },
    };
    assert.deepEqual(toWireMessage(user), {
      role: "user",
      content: [
        { type: "text", text: "a", cache_control: { type: "ephemeral" } },
        { type: "text", text: "b", cache_control: { type: "ephemeral", ttl: "1h" } },
        { type: "image_url", image_url: { url: "https://example.test/i.png" } },
      ],
    });
  });

  it("turns a string message with a breakpoint into one text part, for every role that has text", () => {
    const control = { type: "ephemeral" } as const;
    const part = [{ type: "text", text: "t", cache_control: { type: "ephemeral" } }];
    assert.deepEqual(toWireMessage({ role: "system", content: "t", cacheControl: control }), {
      role: "system",
      content: part,
    });
    assert.deepEqual(toWireMessage({ role: "user", content: "t", cacheControl: control }), {
      role: "user",
      content: part,
    });
    assert.deepEqual(toWireMessage({ role: "assistant", content: "t", cacheControl: control }), {
      role: "assistant",
      content: part,
    });
    assert.deepEqual(toWireMessage({ role: "tool", content: "t", toolCallId: "c1", cacheControl: control }), {
      role: "tool",
      content: part,
      tool_call_id: "c1",
    });
  });

  it("sends the service's whole-message breakpoints only to models that cache explicitly; a client's part breakpoints to every model", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Summary so far.", cacheControl: { type: "ephemeral" } },
      { role: "user", content: [{ type: "text", text: "Pinned", cacheControl: { type: "ephemeral" } }] },
    ];
    const explicit = chatBody({ model: "anthropic/claude-sonnet-5.5", messages }).messages;
    assert.deepEqual(explicit[0]?.content, [
      { type: "text", text: "Summary so far.", cache_control: { type: "ephemeral" } },
    ]);
    const automatic = chatBody({ model: "moonshotai/kimi-k2.6", messages }).messages;
    assert.equal(
      automatic[0]?.content,
      "Summary so far.",
      "a model that caches on its own gets the plain string",
    );
    assert.deepEqual(automatic[1]?.content, [
      { type: "text", text: "Pinned", cache_control: { type: "ephemeral" } },
    ]);
  });

  it("sends messages without a breakpoint exactly as before", () => {
    assert.deepEqual(toWireMessage({ role: "system", content: [{ type: "text", text: "x" }] }), {
      role: "system",
      content: "x",
    });
    assert.deepEqual(toWireMessage({ role: "user", content: "hi" }), { role: "user", content: "hi" });
    assert.deepEqual(toWireMessage({ role: "user", content: [{ type: "text", text: "hi" }] }), {
      role: "user",
      content: [{ type: "text", text: "hi" }],
    });
  });

  it("has nowhere to put a breakpoint on a turn that only called tools, and sends it unchanged", () => {
    const call = { id: "c1", type: "function" as const, function: { name: "f", arguments: "{}" } };
    assert.deepEqual(
      toWireMessage({
        role: "assistant",
        content: "",
        toolCalls: [call],
        cacheControl: { type: "ephemeral" },
      }),
      { role: "assistant", content: null, tool_calls: [call] },
    );
  });
});

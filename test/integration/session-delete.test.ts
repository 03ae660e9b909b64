import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clientKeyId } from "../../src/api/client-identity.ts";
import { routingResponder } from "../support/responders.ts";
import { startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

const alice = "alice-key-0123456789abcdef";
const bob = "bob-key-0123456789abcdef01";

async function send(
  t: TestApp,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<TestResponse> {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe("DELETE /sessions/{id}", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      config: { api_keys: { clients: [alice, bob] }, routing: { warmup: { enabled: false } } },
    });
    t.fake?.respondWith(routingResponder("M"));
  });
  after(() => t.close());

  it("deletes the owner's session with its messages; another client's is not found, as GET says", async () => {
    const opened = await send(t, "POST", "/sessions", alice, {});
    const id = opened.body.session_id as string;
    assert.equal((await send(t, "POST", "/chat", alice, { session_id: id, message: "hello" })).status, 200);

    const asBob = await send(t, "DELETE", `/sessions/${id}`, bob);
    assert.equal(asBob.status, 404);
    const unknown = await send(t, "DELETE", `/sessions/${randomUUID()}`, bob);
    assert.equal(unknown.status, 404);
    assert.equal(asBob.body.error.code, unknown.body.error.code);
    assert.equal((await send(t, "GET", `/sessions/${id}`, bob)).status, 404);
    assert.equal((await send(t, "GET", `/sessions/${id}`, alice)).body.messages.length, 2);

    const deleted = await fetch(`${t.url}/sessions/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${alice}` },
    });
    assert.equal(deleted.status, 204);
    assert.equal(await deleted.text(), "");
    assert.equal((await send(t, "GET", `/sessions/${id}`, alice)).status, 404);
    assert.deepEqual(await t.app.store.listMessages(`${clientKeyId(alice)}/${id}`), []);
    assert.equal((await send(t, "DELETE", `/sessions/${id}`, alice)).status, 404);
  });

  it("refuses (409) while a workflow of the session is running, and deletes it once the run has ended", async () => {
    const opened = await send(t, "POST", "/sessions", alice, {});
    const id = opened.body.session_id as string;
    const runId = randomUUID();
    await t.app.store.createRun(
      {
        id: runId,
        sessionId: `${clientKeyId(alice)}/${id}`,
        kind: "chat",
        request: {},
        owner: clientKeyId(alice),
      },
      [{ role: "user", content: "a long job", tokens: 3 }],
    );
    const busy = await send(t, "DELETE", `/sessions/${id}`, alice);
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, "session_busy");
    assert.equal((await send(t, "GET", `/sessions/${id}`, alice)).body.messages.length, 1);
    await t.app.store.finishRun(runId, { status: "completed", result: "done" });
    assert.equal((await send(t, "DELETE", `/sessions/${id}`, alice)).status, 204);
  });

  it("names a bad page parameter", async () => {
    const opened = await send(t, "POST", "/sessions", alice, {});
    const res = await send(t, "GET", `/sessions/${opened.body.session_id}?limit=0`, alice);
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /limit/);
  });
});

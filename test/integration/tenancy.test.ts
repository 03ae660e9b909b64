import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type FakeOpenRouter, type FakeReply, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

const alice = "alice-key-0123456789abcdef";
const bob = "bob-key-0123456789abcdef01";

// A request as one client sends it: its key, and a body given as raw text (possibly none at all).
async function send(
  t: TestApp,
  method: string,
  path: string,
  options: { key?: string; body?: string; contentType?: string } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.contentType) headers["content-type"] = options.contentType;
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // An event stream: keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

const oneTask = (prompt: string) => [
  { type: "linear", tasks: [{ model: "fast_ai", prompt, output_variable: "answer" }] },
];

describe("tenancy: another client's running run", () => {
  let fake: FakeOpenRouter;
  let t: TestApp;
  // The upstream holds its answer until the test lets it go, so the run stays running meanwhile.
  let release: (reply: FakeReply) => void = () => {};

  before(async () => {
    fake = await startFakeOpenRouter();
    fake.respondWith(
      () =>
        new Promise<FakeReply>((resolve) => {
          release = resolve;
        }),
    );
    t = await startTestApp({ fake, config: { api_keys: { clients: [alice, bob] } } });
  });
  after(async () => {
    release({ kind: "text", content: "late" });
    await t.close();
    await fake.close();
  });

  it("cannot be read, cancelled, resumed or followed, and the owner's run completes untouched", async () => {
    const started = await send(t, "POST", "/workflow", {
      key: alice,
      contentType: "application/json",
      body: JSON.stringify({ workflow: oneTask("a private plan"), async: true }),
    });
    assert.equal(started.status, 202);
    const id = started.body.workflow_id;
    await eventually("the held plan call to reach the upstream", async () =>
      fake.requests.length === 1 ? true : undefined,
    );
    // The owner follows the run's events while it runs.
    const ownerEvents = fetch(`${t.url}/workflow/${id}/events`, {
      headers: { authorization: `Bearer ${alice}` },
    }).then((r) => r.text());

    for (const [method, path] of [
      ["GET", `/workflow/${id}`],
      ["DELETE", `/workflow/${id}`],
      ["POST", `/workflow/${id}/resume`],
      ["GET", `/workflow/${id}/events`],
    ] as const) {
      const res = await send(t, method, path, { key: bob });
      assert.equal(res.status, 404, `${method} ${path} as another client`);
      assert.equal(res.body.error.code, "not_found");
      const unknown = await send(t, method, path.replace(id, randomUUID()), { key: bob });
      assert.equal(unknown.status, 404);
      assert.equal(
        JSON.stringify(res.body).replace(id, "<id>"),
        JSON.stringify(unknown.body).replace(/[0-9a-f-]{36}/, "<id>"),
        "the same 404 as an id that does not exist",
      );
    }
    const during = await send(t, "GET", `/workflow/${id}`, { key: alice });
    assert.equal(during.body.status, "running", "nothing another client did stopped the run");

    release({ kind: "text", content: "the plan, finished" });
    const done = await eventually("alice's run to end", async () => {
      const res = await send(t, "GET", `/workflow/${id}`, { key: alice });
      return res.body.status === "running" ? undefined : res.body;
    });
    assert.equal(done.status, "completed");
    assert.equal(done.error, undefined);
    assert.deepEqual(done.outputs, { answer: "the plan, finished" });
    assert.equal(fake.requests.length, 1, "the run was not resumed into a second attempt");
    const record = await t.app.store.getRun(id);
    assert.equal(record?.status, "completed");
    assert.equal(record?.error, null, "never cancelled");
    const events = await ownerEvents;
    assert.match(events, /event: task_completed/);
    assert.match(events, /"status":"completed"/);
    assert.doesNotMatch(events, /cancel/);
  });
});

describe("bodiless routes with an empty JSON body", () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp({
      mode: "offline",
      config: {
        templates: {
          daily_note: { description: "A note with no variables", workflow: oneTask("write today's note") },
        },
      },
    });
  });
  after(async () => {
    await t.close();
  });

  for (const contentType of ["application/json", "application/json; charset=utf-8"]) {
    it(`takes no body as no body (${contentType})`, async () => {
      const empty = { contentType, body: "" };
      const opened = await send(t, "POST", "/sessions", empty);
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      assert.ok(opened.body.session_id);

      const unknown = randomUUID();
      for (const [method, path] of [
        ["DELETE", `/workflow/${unknown}`],
        ["POST", `/workflow/${unknown}/resume`],
      ] as const) {
        const res = await send(t, method, path, empty);
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, "not_found");
      }

      const ran = await send(t, "POST", "/template/daily_note", empty);
      assert.equal(ran.status, 200, JSON.stringify(ran.body));
      assert.equal(ran.body.status, "completed");
      const id = ran.body.workflow_id;
      // A finished run: cancelling and resuming it get their own answers, not one about the body.
      const cancel = await send(t, "DELETE", `/workflow/${id}`, empty);
      assert.equal(cancel.status, 409);
      assert.equal(cancel.body.error.code, "not_running");
      const resume = await send(t, "POST", `/workflow/${id}/resume`, empty);
      assert.equal(resume.status, 409);
      assert.equal(resume.body.error.code, "not_resumable");
    });
  }

  it("still refuses an empty body where one is required, saying what is missing", async () => {
    for (const path of ["/chat", "/workflow", "/v1/chat/completions"]) {
      const res = await send(t, "POST", path, { contentType: "application/json", body: "" });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error.message, "the request body must be a JSON object", path);
    }
  });

  it("still refuses a body that is not JSON", async () => {
    const res = await send(t, "POST", "/sessions", { contentType: "application/json", body: "{" });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_json");
  });
});

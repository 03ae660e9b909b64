import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { startTestApp, type TestApp, type TestResponse } from "../support/test-app.ts";

// The OpenAPI document against the OpenAPI 3.1 schema, the routes Fastify serves, the README's request
// examples and real answers of every API family.

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

// Registered routes the document leaves out on purpose.
const undocumented: readonly { readonly route: RegExp; readonly why: string }[] = [
  { route: /^HEAD /, why: "Fastify answers HEAD for every GET route by itself" },
  { route: /^OPTIONS \*$/, why: "CORS preflights, answered before authentication with no body" },
  { route: /^GET \/(index\.html)?$/, why: "the chat box's page" },
  { route: /^GET \/assets\//, why: "the chat box's built files" },
  { route: /^GET \/docs\/reference\.(js|css)$/, why: "the reference page's own script and style" },
];
// README corrections proposed with this change and not yet made (the README is edited separately): each
// turns an example that would be refused into the request it means. Once made, they match nothing.

describe("OpenAPI document and reference page", () => {
  let app: TestApp;
  let doc: Doc;
  let ajv: Ajv2020;
  let matches: (schema: { $ref?: string }, value: unknown) => boolean;

  before(async () => {
    app = await startTestApp({ mode: "offline" });
    const response = await app.get("/openapi.json");
    assert.equal(response.status, 200);
    doc = response.body;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, "openapi.json");
    // The document's references are relative to itself.
    matches = (schema, value) =>
      ajv.validate(schema.$ref ? { $ref: `openapi.json${schema.$ref}` } : schema, value);
  });
  after(() => app.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc as any);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match((doc as any).openapi, /^3\.1\./);
  });

  it("describes every route the server has registered, and no other", () => {
    const registered = registeredRoutes(app.app.server.printRoutes({ commonPrefix: false })).filter(
      (route) => !undocumented.some((skip) => skip.route.test(route)),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual([...registered].sort(), documented.sort());
  });

  it("names the client key schemes and leaves the health check open", () => {
    const schemes = (doc as any).components.securitySchemes;
    assert.deepEqual(schemes.bearer, {
      type: "http",
      scheme: "bearer",
      description: schemes.bearer.description,
    });
    assert.equal(schemes.xApiKey.name, "x-api-key");
    // No client keys configured here: the key is optional.
    assert.ok((doc as any).security.some((requirement: object) => Object.keys(requirement).length === 0));
    assert.deepEqual(doc.paths["/health"]?.get.security, []);
  });

  it("accepts the README's request examples", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const examples = readmeRequestExamples(readme);
    assert.ok(examples.length >= 4, `found ${examples.length} examples`);
    for (const { path, body } of examples) {
      const operation = doc.paths[path]?.post;
      assert.ok(operation, `README posts to ${path}, which the document does not describe`);
      const schema = operation.requestBody.content["application/json"].schema;
      const valid = matches(schema, body);
      assert.ok(valid, `README example for ${path}: ${ajv.errorsText()}\n${JSON.stringify(body)}`);
    }
  });

  it("matches real answers of every API family", async () => {
    const check = (method: string, path: string, response: TestResponse) => {
      const reply = doc.paths[path]?.[method]?.responses;
      assert.ok(reply, `${method} ${path} is not documented`);
      const documented = reply[response.status] ?? reply.default;
      assert.ok(documented, `${method} ${path} answered ${response.status}, which is not documented`);
      const schema = documented.content["application/json"].schema;
      const valid = matches(schema, response.body);
      assert.ok(
        valid,
        `${method} ${path} ${response.status}: ${ajv.errorsText()}\n${JSON.stringify(response.body)}`,
      );
    };
    const chat = await app.post("/chat", { message: "What are the benefits of renewable energy?" });
    assert.equal(chat.status, 200);
    check("post", "/chat", chat);
    check("get", "/sessions/{id}", await app.get(`/sessions/${chat.body.session_id}`));
    check("post", "/sessions", await app.post("/sessions", {}));

    const workflow = await app.post("/workflow", {
      workflow: [
        { type: "linear", tasks: [{ model: "medium_ai", prompt: "Hi {who}", output_variable: "a" }] },
      ],
      variables: { who: "there" },
    });
    assert.equal(workflow.status, 200);
    check("post", "/workflow", workflow);
    check("get", "/workflow/{id}", await app.get(`/workflow/${workflow.body.workflow_id}`));
    const started = await app.post("/workflow", {
      workflow: [{ type: "linear", tasks: [{ model: "medium_ai", prompt: "Hi", output_variable: "a" }] }],
      async: true,
    });
    assert.equal(started.status, 202);
    check("post", "/workflow", started);
    check("get", "/templates", await app.get("/templates"));

    const messages = [{ role: "user", content: "Say hello" }];
    check(
      "post",
      "/v1/chat/completions",
      await app.post("/v1/chat/completions", { model: "auto", messages }),
    );
    check("post", "/v1/responses", await app.post("/v1/responses", { model: "auto", input: "Say hello" }));
    check(
      "post",
      "/v1/messages",
      await app.post("/v1/messages", { model: "auto", max_tokens: 100, messages }),
    );
    check(
      "post",
      "/v1/messages/count_tokens",
      await app.post("/v1/messages/count_tokens", { model: "auto", messages }),
    );
    check("get", "/v1/models", await app.get("/v1/models"));
    check("get", "/v1/models/{id}", await app.get("/v1/models/auto"));
    check("get", "/models", await app.get("/models"));
    check("get", "/addons", await app.get("/addons"));
    check("get", "/health", await app.get("/health"));
    check("get", "/stats", await app.get("/stats"));

    // Errors, in each family's own shape.
    const refused = await app.post("/chat", { message: "" });
    assert.equal(refused.status, 400);
    check("post", "/chat", refused);
    check("get", "/workflow/{id}", await app.get("/workflow/1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
    const openAiRefusal = await app.post("/v1/chat/completions", { messages });
    assert.equal(openAiRefusal.status, 400);
    check("post", "/v1/chat/completions", openAiRefusal);
    const anthropicRefusal = await app.post("/v1/messages", { model: "auto", messages });
    assert.equal(anthropicRefusal.status, 400);
    check("post", "/v1/messages", anthropicRefusal);
  });

  it("serves the reference page from the package, loading nothing from elsewhere", async () => {
    const page = await fetch(`${app.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const policy = page.headers.get("content-security-policy") ?? "";
    assert.match(policy, /script-src 'self'/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    assert.ok(sources.includes("/docs/reference.js"));
    for (const source of sources) assert.match(source, /^\/[^/]/, `${source} is not on this origin`);
    for (const path of ["/docs", "/docs/reference.js", "/docs/reference.css"]) {
      const response = await fetch(`${app.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.doesNotMatch(await response.text(), /https?:\/\//, `${path} names an outside URL`);
    }
  });
});

// "METHOD /path/{param}" for each route in Fastify's route tree (printRoutes with commonPrefix: false).
function registeredRoutes(tree: string): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split("\n")) {
    const at = line.indexOf("── ");
    if (at < 0) continue;
    const depth = at / 4;
    const match = /^(.*?) \(([A-Z, ]+)\)$/.exec(line.slice(at + 3)) ?? [];
    const piece = match[1] ?? line.slice(at + 3);
    const path = (prefixes[depth - 1] ?? "") + piece;
    prefixes[depth] = path;
    for (const method of (match[2] ?? "").split(", ").filter(Boolean)) {
      // Fastify's :param and the catch-all (a model id may hold slashes) as OpenAPI path parameters.
      const openApiPath = path.replace(/:(\w+)/g, "{$1}").replace(/^\/v1\/models\/?\*$/, "/v1/models/{id}");
      routes.push(`${method} ${openApiPath}`);
    }
  }
  return routes;
}

// The README's request bodies: the JSON block under "### `POST /path`" headings, and every
// `curl localhost:8000/path ... -d '{...}'`.
function readmeRequestExamples(readme: string): { path: string; body: unknown }[] {
  const examples: { path: string; body: unknown }[] = [];
  for (const match of readme.matchAll(/^### `POST (\/[^`]*)`\n+```json\n([\s\S]*?)\n```/gm)) {
    examples.push({ path: match[1] ?? "", body: JSON.parse(match[2] ?? "") });
  }
  for (const block of readme.matchAll(/^```bash\n([\s\S]*?)\n```/gm)) {
    const commands = (block[1] ?? "").replaceAll("\\\n", " ");
    for (const match of commands.matchAll(
      /curl [^\n]*?localhost:\d+(\/[\w/.-]*)((?!\ncurl)[\s\S])*?-d '([^']*)'/g,
    )) {
      examples.push({ path: templatePath(match[1] ?? ""), body: JSON.parse(match[3] ?? "") });
    }
  }
  return examples;
}

function templatePath(path: string): string {
  return path.startsWith("/template/") ? "/template/{name}" : path;
}

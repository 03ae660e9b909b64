import type { FastifyInstance } from "fastify";
import { buildOpenApiDocument, type DocumentOptions } from "../openapi/openapi-document.ts";
import { referenceHtml, referenceScript, referenceStyle } from "../openapi/reference-page.ts";

// The page may load only what this origin serves: its own script and style, and the document.
const referencePolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// GET /openapi.json (the API's description) and GET /docs (a reference page rendered from it).
export function registerOpenApiRoutes(app: FastifyInstance, options: DocumentOptions): void {
  // Made on first request rather than at start, so a service nobody asks for its document pays nothing.
  let document: string | undefined;
  app.get("/openapi.json", async (_request, reply) => {
    document ??= JSON.stringify(buildOpenApiDocument(options));
    return reply.type("application/json; charset=utf-8").header("cache-control", "no-cache").send(document);
  });
  const serve = (path: string, type: string, body: string) =>
    app.get(path, async (_request, reply) =>
      reply.type(type).header("content-security-policy", referencePolicy).send(body),
    );
  serve("/docs", "text/html; charset=utf-8", referenceHtml);
  serve("/docs/reference.js", "text/javascript; charset=utf-8", referenceScript);
  serve("/docs/reference.css", "text/css; charset=utf-8", referenceStyle);
}

import { existsSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { packageRoot } from "../../core/package-root.ts";

export const webRoot = new URL("web/dist/", packageRoot).pathname;

// The chat box at /: the built page and its assets. Hashed assets are cached for good; the page itself is
// revalidated, so a new build is picked up at once. Without a build, / says how to make one.
export async function registerWebRoutes(app: FastifyInstance, root = webRoot): Promise<void> {
  if (!existsSync(`${root}index.html`)) {
    app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(notBuiltPage));
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    // One route per built file, so unknown paths still get the API's own 404.
    wildcard: false,
    decorateReply: false,
    index: ["index.html"],
    setHeaders: (reply, path) => {
      reply.header(
        "cache-control",
        path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
}

// Static files of the page and the API's description (the OpenAPI document and its reference page): they
// carry no data, so they are served without an API key.
export function isWebAsset(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return (
    path === "/" ||
    path === "/index.html" ||
    path.startsWith("/assets/") ||
    path === "/openapi.json" ||
    path === "/docs" ||
    path.startsWith("/docs/")
  );
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Master AI Orchestrator</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The chat box is not built</h1>
<p>This installation has no web build (it was installed without development dependencies). Run
<code>npm install</code> then <code>npm run build:web</code>, or use the API directly: <code>POST /chat</code>,
<code>/v1/chat/completions</code>, <code>GET /health</code>.</p>
</body></html>`;

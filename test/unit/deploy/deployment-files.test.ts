import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { environmentVariables } from "../../../src/config/load-config.ts";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const packageJson = JSON.parse(read("package.json")) as {
  scripts: Record<string, string | undefined>;
  engines: { node: string };
};

// The deployment files repeat facts the code owns (the start command, the health path, the variables):
// these checks fail when one side changes without the other.
describe("deployment files", () => {
  it("Railway starts the service with npm start, checks /health and restarts on failure", () => {
    const railway = JSON.parse(read("railway.json"));
    assert.equal(railway.deploy.startCommand, "npm start");
    assert.equal(railway.deploy.healthcheckPath, "/health");
    assert.equal(railway.deploy.restartPolicyType, "ON_FAILURE");
    // npm ci builds the chat box (prepare) with the development dependencies, then they are pruned.
    assert.equal(railway.build.buildCommand, "npm ci && npm prune --omit=dev");
    assert.equal(read("Procfile").trim(), "web: npm start");
    // Railway's builder reads the Node version from railpack.json; .nvmrc pins the same for everyone else.
    assert.equal(JSON.parse(read("railpack.json")).packages.node, "24");
    assert.equal(read(".nvmrc").trim(), "24");
    assert.equal(packageJson.engines.node, ">=22.13");
  });

  it("the Dockerfile runs what npm start runs, as a non-root user, with a health check", () => {
    const dockerfile = read("Dockerfile");
    const startArgs = packageJson.scripts.start?.replace(/^node /, "").split(" ") ?? [];
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(cmd, "the Dockerfile has an exec-form CMD");
    assert.deepEqual(JSON.parse(cmd), ["node", ...startArgs]);
    assert.match(dockerfile, /^FROM node:24-slim AS dependencies$/m);
    assert.match(dockerfile, /^COPY --from=web \/app\/web\/dist \.\/web\/dist$/m);
    // The image runs the compiled service, built in the build stage like npm start builds it.
    assert.match(dockerfile, /^COPY --from=web \/app\/dist \.\/dist$/m);
    assert.match(dockerfile, /^RUN node scripts\/build-server\.mjs --force/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/health/m);
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources?.split(" ") ?? []) assert.ok(existsSync(new URL(source, root)), source);
    }
  });

  it("npm start and npm run worker check the Node.js version, build the service and run the build", () => {
    const { scripts } = packageJson;
    assert.equal(scripts.start, "node --max-semi-space-size=16 dist/src/main.js");
    assert.equal(scripts.worker, "node --max-semi-space-size=16 dist/src/worker.js");
    for (const before of [scripts.prestart, scripts.preworker, scripts.prepare]) {
      assert.match(before ?? "", /^node scripts\/check-node\.mjs && /, "the version check comes first");
      assert.match(before ?? "", /node scripts\/build-server\.mjs/);
    }
  });

  it(".env.example lists every environment variable the service reads, and nothing else", () => {
    const listed = [...read(".env.example").matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), [...environmentVariables].sort());
  });
});

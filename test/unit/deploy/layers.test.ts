import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const config = join(root, ".dependency-cruiser.mjs");
const depcruise = join(root, "node_modules", ".bin", "depcruise");

interface Layer {
  readonly name: string;
  readonly folders: readonly string[];
}

// Runs the lint's dependency rules over a made-up src/ (paths relative to it, with their contents).
async function cruise(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "layers-"));
  try {
    for (const [path, text] of Object.entries(files)) {
      const file = join(dir, "src", path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    const result = await run(depcruise, ["src", "--config", config, "--output-type", "err"], { cwd: dir });
    return { ok: true, output: result.stdout };
  } catch (error) {
    const failed = error as { stdout?: string; code?: number };
    if (typeof failed.code !== "number") throw error;
    return { ok: false, output: failed.stdout ?? "" };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the layers rule (npm run lint)", () => {
  let layers: readonly Layer[] = [];
  before(async () => {
    ({ layers } = (await import(config)) as { layers: readonly Layer[] });
  });

  it("puts every folder and file of src/ in a layer, so nothing escapes the rule", async () => {
    const placed = new Set(layers.flatMap((layer) => layer.folders));
    const entries = await readdir(join(root, "src"));
    assert.deepEqual(
      entries.filter((entry) => !placed.has(entry)),
      [],
    );
  });

  it("passes imports downward and within a layer", async () => {
    const result = await cruise({
      "core/clock.ts": "export const now = () => Date.now();\n",
      "store/store.ts": 'import { now } from "../core/clock.ts";\nexport const stamp = now;\n',
      "api/route.ts":
        'import { stamp } from "../store/store.ts";\nimport { now } from "../core/clock.ts";\nexport const both = [stamp, now];\n',
      "chat/chat.ts": 'import type { both } from "../workflows/flow.ts";\nexport type Both = typeof both;\n',
      "workflows/flow.ts": "export const both = 1;\n",
      "app.ts": 'import { both } from "./api/route.ts";\nexport const app = both;\n',
    });
    assert.equal(result.ok, true, result.output);
  });

  it("fails on an upward import, also a type-only one", async () => {
    const result = await cruise({
      "telemetry/span.ts": "export interface Span { end(): void }\n",
      "core/context.ts":
        'import type { Span } from "../telemetry/span.ts";\nexport interface Context { span?: Span }\n',
    });
    assert.equal(result.ok, false);
    assert.match(
      result.output,
      /no-upward-import-from-core: src\/core\/context\.ts → src\/telemetry\/span\.ts/,
    );
  });

  it("fails on an import of an entry point", async () => {
    const result = await cruise({
      "app.ts": "export const app = 1;\n",
      "api/server.ts": 'import { app } from "../app.ts";\nexport const server = app;\n',
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /no-upward-import-from-api: src\/api\/server\.ts → src\/app\.ts/);
  });

  it("fails on an import cycle, also within one layer and through type-only imports", async () => {
    const result = await cruise({
      "models/catalog.ts":
        'import type { Live } from "./live.ts";\nexport type Price = number;\nexport const attach = (live: Live) => live;\n',
      "models/live.ts":
        'import type { Price } from "./catalog.ts";\nexport interface Live { price: Price }\n',
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /no-cycle: src\/models\/(catalog|live)\.ts/);
  });

  it("fails on an import it cannot resolve, which would otherwise escape the rules", async () => {
    const result = await cruise({
      "core/context.ts": 'import type { Span } from "../telemetry/missing.ts";\nexport type S = Span;\n',
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /no-unresolvable: src\/core\/context\.ts → \.\.\/telemetry\/missing\.ts/);
  });
});

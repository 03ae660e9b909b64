#!/usr/bin/env node
// Starts the command-line client from its TypeScript source. Node versions that do not strip types by
// default (22.13 to 22.17) run it again with the flag that turns it on.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `error: the orchestrator CLI needs Node.js 22.13 or newer (24 LTS recommended); this is ${process.version}\n`,
  );
  process.exit(2);
}

if (process.features.typescript) {
  await import(entry);
} else {
  const child = spawnSync(
    process.execPath,
    ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", entry, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(child.status ?? 1);
}

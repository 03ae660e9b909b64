// Builds the chat box (web/) into web/dist when it is missing or older than its sources. Runs after
// `npm install` and before `npm start`, so the quick start stays two commands. Without the build tools
// (an install with --omit=dev), it says so and leaves the server to serve its fallback page.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const web = new URL("../web/", import.meta.url).pathname;
const built = join(web, "dist", "index.html");

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = Math.max(
  newest(join(web, "src")),
  newest(join(web, "index.html")),
  newest(join(web, "vite.config.ts")),
);
if (existsSync(built) && statSync(built).mtimeMs >= sources && !process.argv.includes("--force"))
  process.exit(0);

let vite;
try {
  vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
} catch {
  process.stderr.write(
    existsSync(built)
      ? "web: the build tools are not installed; serving the chat box as it was last built\n"
      : "web: the build tools are not installed (npm install without --omit=dev builds the chat box); / will say so\n",
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn", web], { stdio: "inherit" });
process.exit(result.status ?? 1);

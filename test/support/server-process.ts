import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = new URL("../../", import.meta.url).pathname;

export interface ServerProcess {
  readonly pid: number | undefined;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly kill: (signal?: NodeJS.Signals) => void;
}

// Node's arguments to run one of the service's TypeScript entry points (src/main.ts, src/worker.ts).
export function sourceArgs(entry: string): string[] {
  return ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", join(root, entry)];
}

// Starts the service as `npm start` (or `npm run worker`) runs it, in its own process, with only the given
// environment; its log lines are collected.
export function startProcess(env: Record<string, string>, args = sourceArgs("src/main.ts")): ServerProcess {
  const child = spawn(process.execPath, args, {
    cwd: mkdtempSync(join(tmpdir(), "orchestrator-")),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { pid: child.pid, output: () => output, exited, kill: (signal) => child.kill(signal) };
}

// A port nothing listens on now, for a child server: the system picks it, so it is not one another process
// (a server, or a connection's local end) holds, as a random pick from a fixed range can be on a shared host.
export async function freePort(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === "string") throw new Error("the probe got no TCP port");
  return String(address.port);
}

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./processes.ts";

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

// Each benchmark writes its figures as JSON and as the table it printed.
export function writeResult(name: string, data: unknown, table: string): void {
  const dir = join(repoRoot, "bench/results");
  mkdirSync(dir, { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ at, machine: machine(), ...(data as object) }, null, 2)}\n`,
  );
  writeFileSync(join(dir, `${name}.md`), `${table}\n\n_${at}, ${JSON.stringify(machine())}_\n`);
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

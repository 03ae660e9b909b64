// Where the CLI writes: results to stdout (so they can be piped), progress and notes to stderr.
export interface Output {
  result(text: string): void;
  note(text: string): void;
}

export const processOutput: Output = {
  result: (text) => process.stdout.write(text),
  note: (text) => process.stderr.write(text),
};

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "-";
  if (value === 0) return "$0";
  return value < 0.01 ? `$${value.toPrecision(3)}` : `$${value.toFixed(4)}`;
}

// A plain text table: columns padded to their widest cell.
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`;
}

// Tool calls stream as OpenAI's fragments (delta.tool_calls): the first fragment of a call carries its
// index, id and name, later ones more of its arguments. The Responses and Messages streams announce each
// call once and then stream its arguments, so the fragments are turned into those two steps.

export type ToolCallStep =
  | { readonly kind: "start"; readonly index: number; readonly id: string; readonly name: string }
  | { readonly kind: "arguments"; readonly index: number; readonly delta: string };

interface Fragment {
  readonly index?: number;
  readonly id?: string;
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

export class ToolCallDeltas {
  readonly #started = new Set<number>();

  steps(deltas: readonly unknown[]): ToolCallStep[] {
    const steps: ToolCallStep[] = [];
    for (const raw of deltas) {
      const fragment = (raw ?? {}) as Fragment;
      const index = typeof fragment.index === "number" ? fragment.index : 0;
      if (!this.#started.has(index)) {
        this.#started.add(index);
        steps.push({
          kind: "start",
          index,
          id: fragment.id || `call_${index}`,
          name: fragment.function?.name ?? "",
        });
      }
      const args = fragment.function?.arguments;
      if (args) steps.push({ kind: "arguments", index, delta: args });
    }
    return steps;
  }
}

import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { type Clock, systemClock } from "../core/clock.ts";
import type { ChatMessage } from "../providers/chat-provider.ts";
import { categorizerView } from "./categorizer-prompt.ts";
import type { Category } from "./category.ts";

// routing.memo in the config.
export interface LabelMemoSettings {
  readonly enabled: boolean;
  readonly maxEntries: number;
  readonly maxMegabytes: number;
  readonly ttlSeconds: number;
}

export interface LabelMemoStats {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
}

// A categorization as the categorizer step reports it: only a label the model gave is worth remembering.
// The local rule's fallback is cheap to compute again, and remembering it would pin a label given while
// the categorizer was down (or answered unusably) for the memo's whole TTL.
export interface CategorizedLabel {
  readonly category: Category;
  readonly source: string;
}

// What one entry holds in memory: the 43-character key, its map entry and the cache's per-slot arrays; the
// value is one of three shared strings. About 140 bytes measured on the heap, counted with headroom for the
// map's growth. Every key has the same length, so every entry counts the same: the byte bound caps the
// count at maxMegabytes / 192 B (8 MB: about 43,000 entries) when that is below maxEntries.
export const labelMemoEntryBytes = 192;

// Recent categorizer labels, so that a repeated question makes no categorizer call. Keyed by a digest of
// the client, the request and the turns the categorizer sees: keys have a fixed size and no user text is
// kept. Per client: one client's question never answers another's (with client keys off, open mode is one
// scope). Bounded by entries and by bytes; a label expires after its TTL, counted from when the model gave
// it (a hit does not extend it), so a changed categorizer or prompt is heard within the TTL.
export class LabelMemo {
  readonly #entries: LRUCache<string, Category> | undefined;
  #hits = 0;
  #misses = 0;

  constructor(settings: LabelMemoSettings, clock: Pick<Clock, "now"> = systemClock) {
    if (!settings.enabled) return;
    this.#entries = new LRUCache<string, Category>({
      max: settings.maxEntries,
      maxSize: Math.floor(settings.maxMegabytes * 1024 * 1024),
      sizeCalculation: () => labelMemoEntryBytes,
      ttl: settings.ttlSeconds * 1000,
      perf: { now: () => clock.now() },
      // Reads the clock on every check: the default caches it with a timer per millisecond, which costs more
      // than reading it, and would hide a test clock's moves.
      ttlResolution: 0,
    });
  }

  get(scope: string | undefined, message: string, recent: readonly ChatMessage[]): Category | undefined {
    if (!this.#entries) return undefined;
    const found = this.#entries.get(labelMemoKey(scope, message, recent));
    if (found) this.#hits++;
    else this.#misses++;
    return found;
  }

  remember(
    scope: string | undefined,
    message: string,
    recent: readonly ChatMessage[],
    label: CategorizedLabel,
  ): void {
    if (!this.#entries || label.source !== "model") return;
    this.#entries.set(labelMemoKey(scope, message, recent), label.category);
  }

  // Entries held, expired ones included until they are read or pushed out.
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  stats(): LabelMemoStats {
    return {
      entries: this.size,
      bytes: this.#entries?.calculatedSize ?? 0,
      hits: this.#hits,
      misses: this.#misses,
    };
  }
}

// The digest naming a request as the categorizer sees it (clipped), normalised. `scope` is the client key's
// id, undefined in open mode; ids are never empty, so no client shares open mode's scope.
export function labelMemoKey(
  scope: string | undefined,
  message: string,
  recent: readonly ChatMessage[],
): string {
  const view = categorizerView(message, recent);
  const shape = [
    scope ?? null,
    normaliseForLabel(view.request),
    view.turns.map((t) => [t.role, normaliseForLabel(t.text)]),
  ];
  return createHash("sha256").update(JSON.stringify(shape)).digest("base64url");
}

// Folds away what cannot change how much work a request is, so near-repeats share a label:
// - trimming: whitespace around a request says nothing about it;
// - collapsing runs of whitespace (line breaks, tabs, indentation) to one space: the words and their order,
//   which the label depends on, are kept; only the layout goes;
// - lower case: "WRITE A POEM" asks for what "write a poem" does.
// A request that differs in more than this misses and is classified afresh: a miss costs a categorizer
// call, never a wrong label.
export function normaliseForLabel(text: string): string {
  return text.trim().replace(/\s+/g, " ").toLowerCase();
}

import type { StoredMessage } from "../store/store.ts";

// The oldest turns of a window that leave it, and where the window then starts.
export interface FoldPlan {
  readonly leaving: readonly StoredMessage[];
  readonly leavingTokens: number;
  // The id of the first message that stays (one past the last message when none stays).
  readonly nextStart: number;
}

// Once a window passes maxTokens, its oldest turns leave it until what stays is at most half of maxTokens
// (hysteresis: the window start, and with it the prefix sent to the model, moves once per half window of
// conversation, not on every turn). The window always starts at a user message, and one fold takes at most
// `maxFoldTokens` (a summarizer that fell far behind catches up over several folds).
export function planFold(
  window: readonly StoredMessage[],
  maxTokens: number,
  maxFoldTokens: number,
): FoldPlan | undefined {
  let remaining = window.reduce((sum, m) => sum + m.tokens, 0);
  if (remaining <= maxTokens) return undefined;
  const target = Math.floor(maxTokens / 2);
  let leavingTokens = 0;
  let cut = 0;
  while (cut < window.length) {
    const next = window[cut];
    if (!next) break;
    const atTurnStart = next.role === "user";
    if (cut > 0 && atTurnStart && (remaining <= target || leavingTokens >= maxFoldTokens)) break;
    leavingTokens += next.tokens;
    remaining -= next.tokens;
    cut++;
  }
  const leaving = window.slice(0, cut);
  const last = window[window.length - 1];
  const nextStart = window[cut]?.id ?? (last ? last.id + 1 : 0);
  return { leaving, leavingTokens, nextStart };
}

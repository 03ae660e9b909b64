import type { ChatMessage } from "../providers/chat-provider.ts";
import type { StoredMessage } from "../store/store.ts";

// The most recent turns that fit in the token budget, oldest first. Older turns are dropped whole,
// never cut mid-message, and the window never starts with an assistant turn that lost its question.
export function recentMessages(history: readonly StoredMessage[], budgetTokens: number): StoredMessage[] {
  const kept: StoredMessage[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i];
    if (!message || used + message.tokens > budgetTokens) break;
    kept.push(message);
    used += message.tokens;
  }
  kept.reverse();
  while (kept[0]?.role === "assistant") kept.shift();
  return kept;
}

// The same window as chat messages.
export function historyWindow(history: readonly StoredMessage[], budgetTokens: number): ChatMessage[] {
  return recentMessages(history, budgetTokens).map((m) => ({ role: m.role, content: m.content }));
}

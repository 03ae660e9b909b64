import type { SessionState, Store, StoredMessage } from "../store/store.ts";

// Messages per page when reading a window's newest messages backwards.
const pageSize = 64;

// The window's messages a turn needs, oldest first. Normally the whole window (the messages from its start on,
// by index). When the summarizer is behind or failing, the window has grown past what any turn sends, and only
// its newest messages, at least `maxTokens` of them, are read, a page at a time: a turn's reads stay bounded
// however long the summarizer has been failing.
export async function readWindow(
  store: Store,
  state: SessionState,
  maxTokens: number,
): Promise<StoredMessage[]> {
  if (state.windowTokens <= 2 * maxTokens) return store.listMessagesFrom(state.id, state.windowStart);
  const pages: StoredMessage[][] = [];
  let tokens = 0;
  let before: number | undefined;
  while (tokens < maxTokens) {
    const page = await store.listMessages(state.id, { limit: pageSize, before });
    const inWindow = page.filter((m) => m.id >= state.windowStart);
    pages.unshift(inWindow);
    tokens += inWindow.reduce((sum, m) => sum + m.tokens, 0);
    const oldest = page[0];
    if (!oldest || page.length < pageSize || inWindow.length < page.length) break;
    before = oldest.id;
  }
  return pages.flat();
}

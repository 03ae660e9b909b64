import type { ResolvedRole } from "../models/model-catalog.ts";
import type { ModelClient, RoleCall, RoleCallResult, RoleStreamEvent } from "../models/model-client.ts";

// An answer whose call is already under way: one plain call, or a stream whose events are read as they come
// and kept until someone reads them (a speculative answer is started before its route is confirmed, and its
// text must wait for that).
export type StartedAnswer = (
  | { readonly kind: "call"; readonly result: Promise<RoleCallResult> }
  | { readonly kind: "stream"; readonly events: AsyncIterable<RoleStreamEvent> }
) & {
  // Resolves once the call has ended, however it ended (for a read-ahead stream; a lazy one resolves at once).
  readonly ended: Promise<void>;
};

// A stream is read ahead only when asked (`readAheadNow`: a speculative answer, whose call must go out now);
// otherwise it is read as the client takes it, so a slow client slows the upstream read too.
export function startAnswer(
  models: ModelClient,
  answerer: ResolvedRole,
  call: RoleCall,
  streaming: boolean,
  readAheadNow = false,
): StartedAnswer {
  if (!streaming) {
    const result = models.call(answerer, call);
    // A refuted speculative call fails with nobody waiting on it: that is expected, not unhandled.
    const ended = result.then(
      () => {},
      () => {},
    );
    return { kind: "call", result, ended };
  }
  const events = models.stream(answerer, call);
  if (!readAheadNow) return { kind: "stream", events, ended: Promise.resolve() };
  const ahead = readAhead(events);
  return { kind: "stream", events: ahead, ended: ahead.ended };
}

// Reads `source` from now on, whether or not anyone reads what it yields yet; the reader gets every item in
// order, then the source's end or its error. What is kept is bounded by the answer itself.
export function readAhead<T>(source: AsyncIterable<T>): AsyncIterable<T> & { readonly ended: Promise<void> } {
  const items: T[] = [];
  let next = 0;
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const ended = (async () => {
    try {
      for await (const item of source) {
        items.push(item);
        wake?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      wake?.();
    }
  })();
  return {
    ended,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (next < items.length) {
          const item = items[next] as T;
          items[next++] = undefined as T;
          yield item;
          continue;
        }
        if (failure) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

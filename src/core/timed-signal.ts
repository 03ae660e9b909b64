// A signal that aborts when its parent does or when its time is up, whichever comes first.
export interface TimedSignal {
  readonly signal: AbortSignal;
  // The time ran out, and the parent has not aborted (then the parent's reason is what counts).
  timedOut(): boolean;
  // Stops the timer and unhooks from the parent; the signal keeps whatever state it has.
  dispose(): void;
}

// Every upstream call makes a few of these, so they are one controller, one timer and one listener on the
// parent, unhooked when the call is over. AbortSignal.any does the same with weak references and a
// finalization registry per signal, which costs several times as much on a path every request takes.
// `reason` makes the timeout's abort reason (an AbortError by default).
export function timedSignal(
  parent: AbortSignal | undefined,
  timeoutMs: number,
  reason?: () => unknown,
): TimedSignal {
  const controller = new AbortController();
  let timedOut = false;
  const onParentAbort = () => {
    clearTimeout(timer);
    controller.abort(parent?.reason);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    parent?.removeEventListener("abort", onParentAbort);
    controller.abort(reason?.());
  }, timeoutMs);
  if (parent?.aborted) {
    clearTimeout(timer);
    controller.abort(parent.reason);
  } else {
    parent?.addEventListener("abort", onParentAbort, { once: true });
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut && parent?.aborted !== true,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
    },
  };
}

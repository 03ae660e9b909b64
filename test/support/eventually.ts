// The one way a test waits for something it cannot await directly (background work, another process, a
// server's log): poll a check until it yields a value. Limits are generous: they are only reached when
// something is broken, never because the machine is busy, and the failure says what was awaited.
export interface EventuallyOptions {
  readonly timeoutMs?: number;
  // What a watched process said, for the failure message.
  readonly output?: () => string;
}

// Polls `check` every 10 ms until it returns anything but undefined, null or false, and returns that.
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false)
      return value as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) {
      const said = options.output ? `; its output:\n${options.output().slice(-4000)}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${said}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

import type { FastifyInstance } from "fastify";

// One deadline per request for everything it does (errorHandling.callDeadlineMs): the categorizer, the
// answer, their retries and fallbacks all fit inside it, so a hung upstream holds a request for one
// deadline, not one per call. Background work it starts (a workflow run) has its own timeout instead.
export function installRequestDeadline(
  app: FastifyInstance,
  callDeadlineMs: number,
  now: () => number,
): void {
  // A callback hook rather than an async one: every request passes here, and a promise per hook adds up.
  app.addHook("onRequest", (request, _reply, done) => {
    if (request.orchestration) request.orchestration.deadline = now() + callDeadlineMs;
    done();
  });
}

import type { FastifyInstance } from "fastify";
import { OrchestratorError } from "../core/errors.ts";

// Every request body is JSON, and only JSON: a body nested deeper than `maxDepth` is refused before it is
// parsed, since a structure thousands of levels deep would overflow the stack wherever it is later walked
// or serialised (the upstream body, token counting, cache keys). Parsing itself stays Fastify's own
// (secure-json-parse), so prototype-poisoning protection is unchanged. text/plain, which Fastify would
// otherwise hand to the routes as a string, gets 415 like every other media type. An empty body is no body.
export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  const parseJson = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? "error",
    app.initialConfig.onConstructorPoisoning ?? "error",
  );
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    // No body at all is what many client wrappers send to a bodiless route with a JSON content type: it is
    // no body (undefined), not malformed JSON. Routes that need a body refuse undefined with their own 400.
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(text, maxDepth)) {
      done(jsonTooDeep(maxDepth), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;

// One pass over the text counting [ and { outside strings. Strings, which make up most of a typical body
// (message text), are skipped with indexOf rather than walked character by character. Malformed JSON is
// not judged here: the parser that follows says what is wrong with it.
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === openBrace || c === openBracket) {
      if (++depth > maxDepth) return true;
    } else if (c === closeBrace || c === closeBracket) {
      depth--;
    }
  }
  return false;
}

// The index of the quote that closes the string opened at `open` (one not escaped by an odd run of
// backslashes), or -1 when the string never closes.
function closingQuote(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === backslash) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function jsonTooDeep(maxDepth: number): OrchestratorError {
  return new OrchestratorError({
    kind: "logical",
    code: "json_too_deep",
    status: 400,
    message: `the request body nests deeper than ${maxDepth} levels of arrays and objects (system.maxJsonDepth)`,
  });
}

import { randomBytes } from "node:crypto";

// Draws a boundary token; tests pass their own.
export type DrawToken = () => string;

// 16 hex characters from the system's cryptographic generator: no one can guess the next one.
export const randomToken: DrawToken = () => randomBytes(8).toString("hex");

const maxDraws = 8;

// A token that none of the texts contains (in any letter case), so that no text a client or a model wrote
// can write a fence's closing tag and step out of its section. Drawn again in the vanishingly unlikely case
// that one does; texts are clipped before they are fenced, so the check is cheap.
export function boundaryFor(texts: readonly string[], draw: DrawToken = randomToken): string {
  const lowered = texts.map((text) => text.toLowerCase());
  for (let attempt = 0; attempt < maxDraws; attempt++) {
    const token = draw();
    if (!lowered.some((text) => text.includes(token.toLowerCase()))) return token;
  }
  throw new Error(`no boundary token absent from the text was drawn in ${maxDraws} tries`);
}

// `text` between an opening and a closing tag named `name` and carrying the token, each on its own line.
export function fenced(name: string, token: string, text: string): string {
  return `<${name}-${token}>\n${text}\n</${name}-${token}>`;
}

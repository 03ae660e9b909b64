import type { IncomingHttpHeaders } from "node:http";

// The API key a client presented, in whichever header its SDK sends it: `Authorization: Bearer` (OpenAI
// SDKs, curl), `x-api-key` (the Anthropic SDK) or `api-key` (Azure OpenAI clients).
export function presentedClientKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string" && /^bearer /i.test(authorization)) {
    return authorization.slice(7).trim() || undefined;
  }
  for (const name of ["x-api-key", "api-key"] as const) {
    const value = headers[name];
    if (typeof value === "string" && value.trim() !== "") return value.trim();
  }
  return undefined;
}

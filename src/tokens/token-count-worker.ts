import { parentPort } from "node:worker_threads";
import { countTokensNow } from "./token-counter.ts";

parentPort?.on("message", ({ id, text }: { id: number; text: string }) => {
  parentPort?.postMessage({ id, tokens: countTokensNow(text) });
});

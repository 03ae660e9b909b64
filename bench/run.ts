import { clientApis } from "./client-apis.ts";
import { conversationBench } from "./conversation.ts";
import { gatewayOverhead } from "./gateway-overhead.ts";
import { machine } from "./lib/report.ts";
import { scale } from "./scale.ts";
import { tracing } from "./tracing.ts";
import { ttfb } from "./ttfb.ts";
import { workflowEngine } from "./workflow-engine.ts";

// npm run bench [-- gateway|workflow|scale|apis|ttfb|tracing|conversation ...]: runs the benchmarks named (all by default), prints their
// tables and writes them to bench/results/.
const benchmarks: Record<string, () => Promise<string>> = {
  gateway: gatewayOverhead,
  workflow: workflowEngine,
  scale,
  apis: clientApis,
  ttfb,
  tracing,
  conversation: conversationBench,
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(benchmarks);
const unknown = names.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark: ${unknown.join(", ")}; choose from ${Object.keys(benchmarks).join(", ")}\n`,
  );
  process.exit(2);
}
process.stdout.write(`machine: ${JSON.stringify(machine())}\n\n`);
for (const name of names) {
  const run = benchmarks[name];
  if (run) process.stdout.write(`${await run()}\n\n`);
}

import { runCli } from "./cli.ts";

// Process entry of the command-line client (see bin/orchestrator.js).
process.exitCode = await runCli(process.argv.slice(2), process.env);

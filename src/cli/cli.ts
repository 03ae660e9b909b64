import { parseArgs } from "node:util";
import { ApiClient } from "./api-client.ts";
import { listAddons, listModels, showStats } from "./catalog-commands.ts";
import { chat } from "./chat-command.ts";
import { CliError, exitCodes, usageError } from "./cli-error.ts";
import { type Output, processOutput } from "./output.ts";
import { parseVariables, runTemplate, runWorkflowFile } from "./workflow-commands.ts";

export const usage = `Usage: orchestrator <command> [options]

Commands:
  chat "message"                   send a message; the answer streams, then category, model and cost
  run workflow.json [--var k=v]    run a workflow file, showing task progress, then its outputs
  template NAME [--var k=v]        run a workflow template with its variables
  models                           list the model roles
  addons                           list the prompt addons
  stats [--since 24h]              usage, cost and savings

Options:
  --url URL        the orchestrator (default $ORCHESTRATOR_URL or http://localhost:8000)
  --key KEY        its API key, when it requires one (default $ORCHESTRATOR_API_KEY)
  --session ID     chat: continue this conversation
  --no-wait        chat: for a complex (H) request, stop after the acknowledgement
  --json           print JSON, for scripts
  -h, --help       this help

Exit codes: 0 done, 1 the server refused or the work failed, 2 wrong usage, 3 server unreachable.
`;

export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  output: Output = processOutput,
): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(argv);
    if (values.help || positionals.length === 0) {
      (values.help ? output.result : output.note)(usage);
      return values.help ? exitCodes.ok : exitCodes.usage;
    }
    const client = new ApiClient({
      baseUrl: values.url ?? env.ORCHESTRATOR_URL ?? "http://localhost:8000",
      apiKey: values.key ?? env.ORCHESTRATOR_API_KEY,
    });
    const json = values.json === true;
    const [command, ...rest] = positionals;
    const argument = (what: string) => {
      if (rest.length !== 1 || !rest[0]) throw usageError(`${command} needs exactly one ${what}\n\n${usage}`);
      return rest[0];
    };
    const variables = parseVariables(values.var ?? []);
    switch (command) {
      case "chat":
        await chat(client, argument('message (quote it: "...")'), {
          output,
          json,
          sessionId: values.session,
          wait: values["no-wait"] !== true,
        });
        break;
      case "run":
        await runWorkflowFile(client, argument("workflow file"), variables, { output, json });
        break;
      case "template":
        await runTemplate(client, argument("template name"), variables, { output, json });
        break;
      case "models":
        await listModels(client, output, json);
        break;
      case "addons":
        await listAddons(client, output, json);
        break;
      case "stats":
        await showStats(client, output, json, values.since);
        break;
      default:
        throw usageError(`unknown command '${command}'\n\n${usage}`);
    }
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CliError) {
      output.note(`error: ${error.message}\n`);
      return error.exitCode;
    }
    output.note(`error: ${(error as Error).message}\n`);
    return exitCodes.failed;
  }
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: "string" },
        key: { type: "string" },
        session: { type: "string" },
        since: { type: "string" },
        var: { type: "string", multiple: true },
        "no-wait": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw usageError(`${(error as Error).message}\n\n${usage}`);
  }
}

// Exit codes the CLI promises, so scripts can tell what went wrong.
export const exitCodes = {
  ok: 0,
  // The server answered with an error, or the workflow did not complete.
  failed: 1,
  // The command line is wrong: unknown command, missing argument, unreadable file.
  usage: 2,
  // The server could not be reached.
  unreachable: 3,
} as const;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string) => new CliError(message, exitCodes.usage);

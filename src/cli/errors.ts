/** CLI errors: an expected user error prints one line (no stack) and exits with its code. */

/** An error the CLI reports as one line with a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = "CliError";
  }
}

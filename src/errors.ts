/**
 * Bad input from the user (a flag, a file, a variant, a tape): the CLI prints the message as
 * one line and exits 2 (or 3 for a tape that does not fit). Never a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 3 = 2,
  ) {
    super(message);
  }
}

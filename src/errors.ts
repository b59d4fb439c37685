/**
 * The three voices of an error (README, "When something goes wrong"):
 * - `UserError`: bad input from the user (a flag, a file, a variant, a tape). The CLI prints the
 *   message as one line and exits 2 (or 3 for a tape that does not fit). Never a stack trace.
 * - `ModelError`: the user's model is malformed (a routine throws, yields a bad effect, loops
 *   without ending a step, names an mm or CPU that does not exist). A UserError (exit 2) whose
 *   message names the routine, the step and, where known, file:line:col.
 * - anything else is an internal error: the CLI prints it as `[tlbcheck bug] ...` and exits 70.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 3 = 2,
  ) {
    super(message);
  }
}

export class ModelError extends UserError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** An internal error: a broken promise of tlbcheck's own code, never the user's. */
export const isInternal = (e: unknown): boolean => e instanceof Error && e.message.startsWith('[tlbcheck bug]');

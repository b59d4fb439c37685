/**
 * Ctrl-C before the search has started. Loading tlbcheck (parsing and compiling the built-in
 * C) takes a few seconds, and until `check` or `gate` installs its own handler a SIGINT would
 * kill the process with nothing printed. bin/tlbcheck.js therefore catches SIGINT for those
 * two commands from the first moment and notes it here; the supervisor that starts the search
 * takes the note and stops at once, so the user still gets "INCONCLUSIVE (interrupted)".
 */
const KEY = Symbol.for('tlbcheck.earlySigint');

interface Note {
  interrupted: boolean;
}

/** Whether a SIGINT arrived before a handler was installed; clears the note. */
export function takeEarlyInterrupt(): boolean {
  const note = (globalThis as unknown as Record<symbol, Note | undefined>)[KEY];
  if (!note?.interrupted) return false;
  note.interrupted = false;
  return true;
}

/**
 * A whole CLI command (`fuzz`, `replay`, `minimize`) run in a supervised worker thread
 * (supervise.ts): these commands run a user's routines too, so they get the same watchdog as
 * `check`. The command's output lines travel back as progress messages, in order; the exit
 * code is the result.
 */
import { main } from './main.ts';
import { hostTask } from './task-host.ts';

export interface CliTaskData {
  readonly task: 'cli';
  readonly argv: readonly string[];
  readonly tty: boolean;
}

/** One line the command printed: `o` to stdout, `e` to stderr, `s` a transient status. */
export type CliLine = { readonly to: 'o' | 'e' | 's'; readonly text: string };

hostTask<CliTaskData, CliLine, number>(async (data, ctx) => {
  ctx.started();
  return main(
    data.argv,
    {
      out: (text) => ctx.progress({ to: 'o', text }),
      err: (text) => ctx.progress({ to: 'e', text }),
      ...(data.tty ? { status: (text: string) => ctx.progress({ to: 's', text }) } : {}),
    },
    { direct: true },
  );
});

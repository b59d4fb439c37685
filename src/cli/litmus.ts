/**
 * `tlbcheck litmus FILE...`: run herd7-syntax litmus tests (and translation litmus tests) on
 * the machine model and print herd7's verdict lines per file. A file that cannot be read or
 * parsed gets one line `file:line: message` on stderr and the others still run. Exit 0 when
 * every file was checked, 2 when one was not.
 */
import { readFileSync } from 'node:fs';
import { parseLitmus } from '../litmus/parse.ts';
import { formatLitmus, runLitmus } from '../litmus/run.ts';
import { LitmusSyntaxError } from '../litmus/tokens.ts';
import type { Io } from './main.ts';

export function runLitmusFiles(io: Io, files: readonly string[]): number {
  let code = 0;
  files.forEach((file, i) => {
    let src: string;
    try {
      src = readFileSync(file, 'utf8');
    } catch (e) {
      const why = e instanceof Error && 'code' in e && e.code === 'ENOENT' ? 'no such file' : 'cannot read the file';
      io.err(`${file}: ${why}`);
      code = 2;
      return;
    }
    try {
      const lines = formatLitmus(runLitmus(parseLitmus(src)));
      if (i > 0) io.out('');
      for (const l of lines) io.out(l);
    } catch (e) {
      if (!(e instanceof LitmusSyntaxError)) throw e;
      io.err(`${file}:${e.line}: ${e.message}`);
      code = 2;
    }
  });
  return code;
}

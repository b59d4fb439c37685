/** Write the timeline page of a replay to a new file (never over an existing one). */
import { writeFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { renderHtml } from '../report/html.ts';
import type { Timeline } from '../report/timeline.ts';

export function writeTimelinePage(path: string, tl: Timeline, title: string, facts: readonly string[]): void {
  try {
    writeFileSync(path, renderHtml(tl, { title, facts }), { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`${path} already exists; not overwriting it (choose another --html path)`);
    throw new UserError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

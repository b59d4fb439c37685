/** Write the timeline page of a replay to a new file (never over an existing one). */
import { UserError } from '../errors.ts';
import { writeNewFile } from '../files.ts';
import { renderHtml } from '../report/html.ts';
import type { Timeline } from '../report/timeline.ts';

export function writeTimelinePage(path: string, tl: Timeline, title: string, facts: readonly string[]): void {
  if (!writeNewFile(path, renderHtml(tl, { title, facts }))) throw new UserError(`${path} already exists; not overwriting it (choose another --html path)`);
}

/**
 * `tlbcheck merge FILES...`: one verdict and one coverage statement from the JSON results of a
 * swarm's shards (explore/merge-shards.ts). A missing, unreadable, malformed or mismatched
 * shard file is one line and exit 2; otherwise exit 1 if any shard found a violation, else 0.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { mergeShards } from '../explore/merge-shards.ts';
import { mergeJson, mergeText } from '../report/merge.ts';
import type { Io } from './main.ts';

export function runMerge(io: Io, files: readonly string[], o: { json?: boolean }): number {
  const texts = files.map((name) => {
    try {
      return { name, text: readFileSync(name, 'utf8') };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`${name}: ${code === 'ENOENT' ? 'no such shard file' : code === 'EISDIR' ? 'is a directory, not a shard file' : `cannot read it (${code ?? 'error'})`}`);
    }
  });
  const r = mergeShards(texts);
  if (!r.ok) throw new UserError(r.problem);
  io.out(o.json ? JSON.stringify(mergeJson(r.merged)) : mergeText(r.merged));
  return r.merged.verdict === 'violated' ? 1 : 0;
}

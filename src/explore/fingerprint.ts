/**
 * The fingerprint of a simulation state: everything that decides its future, that is the
 * machine, the ghost state, each frame's identity and position (a C routine by its live state,
 * a TypeScript routine by the inputs it was fed), and the tasks with their saved stacks. The
 * stateful searches store it (hash compaction); `extra` folds in what the search itself adds
 * (the preemptions spent under a preemption bound).
 */
import { Hasher } from '../machine/hash.ts';
import { isCRun } from './frames.ts';
import type { Sim } from './sim.ts';

/** The 53-bit fingerprint of `s`; with `out`, also its full 64-bit hash as two words there (Hasher.key64). */
export function fingerprintOf(s: Sim, extra: number, out?: Uint32Array): number {
  const h = new Hasher();
  s.m.hashInto(h);
  s.ghost.hashInto(h);
  for (const fs of s.frames) {
    h.add(fs.length);
    for (const f of fs) {
      h.add(f.idKey % 4294967296);
      h.add(Math.floor(f.idKey / 4294967296));
      if (isCRun(f.gen)) {
        // A C routine is identified by its live state, not by the values it was fed.
        f.gen.keyInto(h);
      } else {
        h.add(f.n);
        h.add(f.inputHash.key());
      }
      h.add(f.pending ? 1 : 0);
    }
  }
  if (s.hasTasks || s.hasNmi) {
    s.tasks.hashInto(h);
    for (const fs of s.tasks.saved) {
      h.add(fs ? fs.length : -1);
      for (const f of fs ?? []) {
        h.add(f.idKey % 4294967296);
        h.add(Math.floor(f.idKey / 4294967296));
        h.add(f.n);
        h.add(f.inputHash.key());
      }
    }
  }
  h.add(extra);
  if (out) h.key64(out);
  return h.key();
}

/**
 * The invariant registry: an invariant is one object naming the observations it judges and
 * its check; the monitor runs exactly the catalogue's checks, honours a scenario's list, and
 * keeps the engine's own invariants on whatever the list says.
 */
import { describe, expect, it } from 'vitest';
import { Layout } from '../src/kernel/layout.ts';
import { Ghost } from '../src/invariants/ghost.ts';
import { INVARIANTS } from '../src/invariants/index.ts';
import { Monitor } from '../src/invariants/monitor.ts';
import type { Invariant } from '../src/invariants/types.ts';
import type { Machine, Observation } from '../src/machine/machine.ts';

const layout = new Layout(4, [{ id: 0, name: 'init_mm', pgd: 1, ctxId: 1 }], 2, new Set());
const ghost = new Ghost(2);
const noMachine = undefined as unknown as Machine;

/** A made-up invariant: no CPU may touch va 0x5000. */
const noVa5000: Invariant = {
  id: 'no-va-5000',
  title: 'no access to va 0x5000',
  encodes: 'a test',
  scope: 'user accesses',
  observes: ['use'],
  check: (o, cx) => (o.o === 'use' && o.va === 0x5000 ? { invariant: 'no-va-5000', cpu: o.cpu, step: cx.step, message: `cpu${o.cpu} used 0x5000 in ${cx.mmName(o.mm)}` } : undefined),
};

/** A use through a global entry filled at boot (no flush ever covered it: the real checks pass it). */
const entry = { pfn: 2, pcid: 0, global: true, rec: { step: 0, upperLoc: 4, upperWid: 0, leafLoc: 8, leafWid: 0 } };
const use = (va: number): Observation => ({ o: 'use', cpu: 1, va, mm: 0, entry: entry as never, step: 3 });
const fault: Observation = { o: 'fault', cpu: 0, what: '#UD' };

describe('the invariant registry', () => {
  it('a new invariant is one object: the monitor runs its check on the observations it names', () => {
    const mon = new Monitor(layout, undefined, [noVa5000]);
    expect(mon.check([use(0x1000)], ghost, noMachine, 7)).toBeUndefined();
    const v = mon.check([use(0x1000), use(0x5000)], ghost, noMachine, 7);
    expect(v).toMatchObject({ invariant: 'no-va-5000', cpu: 1, step: 7, message: 'cpu1 used 0x5000 in init_mm' });
    // It observes uses only: a fault is not its business.
    expect(mon.check([fault], ghost, noMachine, 7)).toBeUndefined();
  });

  it("a scenario's invariant list turns state invariants off, never the engine's", () => {
    const cat = [...INVARIANTS, noVa5000];
    expect(new Monitor(layout, ['no-stale-tlb-use'], cat).check([use(0x5000)], ghost, noMachine, 2)).toBeUndefined();
    expect(new Monitor(layout, ['no-va-5000'], cat).check([use(0x5000)], ghost, noMachine, 2)?.invariant).toBe('no-va-5000');
    expect(new Monitor(layout, ['no-stale-tlb-use'], cat).check([fault], ghost, noMachine, 2)).toMatchObject({ invariant: 'no-cpu-fault', message: '#UD' });
  });

  it('every state invariant of the catalogue names what it observes', () => {
    for (const inv of INVARIANTS) if (inv.check) expect(inv.observes?.length ?? 0, inv.id).toBeGreaterThan(0);
    expect(INVARIANTS.filter((i) => i.check).map((i) => i.id)).toEqual(['no-stale-tlb-use', 'no-walk-through-freed-table', 'no-stale-kernel-translation', 'per-mm-state-coherent', 'no-dead-mm-translation', 'no-use-after-free-page', 'no-cpu-fault', 'access-through-own-mm']);
  });
});

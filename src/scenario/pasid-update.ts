/**
 * `pasid-update` (seed 002, docs/seeds.md). cpu0 runs a user thread of mm A and, in a syscall, gives A a
 * PASID (`update_mm_pasid(A, 1)`), then returns to user and uses it. cpu1.. run a thread of
 * mm B, switch to a thread of A and issue an ENQCMD (a user access). After the update has
 * returned, every thread of A must run with PASID 1 (per-mm-state-coherent).
 */
import { UserError } from '../errors.ts';
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { type Program, type Scenario, WorldBuilder, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const NEW_PASID = 1;

export const pasidUpdate: Scenario = {
  id: 'pasid-update',
  title: 'cpu0 sets mmA\'s PASID while cpu1.. switch mmB -> mmA and run ENQCMD',
  description:
    'cpu0 (user thread of mmA, in a syscall): update_mm_pasid(A, 1), then ENQCMD. ' +
    'cpu1..: run mmB, context_switch to mmA, ENQCMD (user access of 0x1000). Needs a variant with update_mm_pasid.',
  cpus: { min: 2, max: 4, default: 2 },
  requires: ['update_mm_pasid'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    w.mapUser(A, VA, w.dataPage());
    w.mapUser(B, VA, w.dataPage());
    const updater: Program = function* (k: K<CoreRoutines>) {
      if (!k.r.update_mm_pasid) throw new UserError('scenario pasid-update needs a variant with update_mm_pasid (e.g. pasid-ipi-mb)');
      yield* k.r.update_mm_pasid(k, A.id, NEW_PASID);
      yield* k.r.user_access(k, VA, false);
    };
    const switcher = inSegments(
      (k) => k.r.context_switch(k, A.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [userStart(A.id, [VA])];
    const programs = [updater];
    for (let c = 1; c < cpus; c++) {
      starts.push(userStart(B.id, [VA]));
      programs.push(switcher);
    }
    return w.build([VA], starts, programs);
  },
};

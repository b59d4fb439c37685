/**
 * `nmi-uaccess-switch` (4012e77a903d): every CPU runs a user task of mmA and context-switches
 * to a user task of mmB, then touches 0x1000 from user mode. One NMI may arrive on any CPU at
 * any step, IRQs on or off: its perf handler reads user address 0x1000 of the interrupted
 * task (current) with copy_from_user_nmi(). Inside switch_mm_irqs_off(), after the CR3 write
 * and before the scheduler makes mmB's task current, that read would go through mmB's page
 * tables on behalf of mmA's task, unless nmi_uaccess_okay() says no.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines } from '../kernel/variant.ts';
import { type Program, type Scenario, WorldBuilder, inSegments, userStart } from './world.ts';
import { VA } from './switch-vs-flush.ts';

export const nmiUaccessSwitch: Scenario = {
  id: 'nmi-uaccess-switch',
  title: 'an NMI reads user memory of current while the CPU switches mmA -> mmB',
  description:
    'cpu0.. (user task of mmA): context_switch to a user task of mmB, user access of 0x1000. ' +
    'One NMI on any CPU at any step (even with IRQs off): perf reads user 0x1000 of current with copy_from_user_nmi(). Needs copy_from_user_nmi (4.20+).',
  cpus: { min: 1, max: 3, default: 1 },
  requires: ['copy_from_user_nmi'],
  build: ({ cpus }) => {
    const w = new WorldBuilder();
    const A = w.addMm('mmA');
    const B = w.addMm('mmB');
    w.mapUser(A, VA, w.dataPage());
    w.mapUser(B, VA, w.dataPage());
    const switcher = inSegments(
      (k: K<CoreRoutines>) => k.r.context_switch(k, B.id),
      function* (k) {
        yield* k.r.user_access(k, VA, false);
      },
    );
    const starts = [];
    const programs: Program[] = [];
    for (let c = 0; c < cpus; c++) {
      starts.push(userStart(A.id, [VA]));
      programs.push(switcher);
    }
    return { ...w.build([VA], starts, programs), nmi: { budget: 1, va: VA } };
  },
};

/**
 * Invariants a variant declares in its C (`invariant=name:function`): each function is
 * evaluated on every CPU after every step, against a read-only view of the machine and the
 * ghost state (kernel/variant.ts `InvariantView`). The first one false is the violation.
 */
import type { K } from '../kernel/fx.ts';
import type { CoreRoutines, InvariantView } from '../kernel/variant.ts';
import type { Layout } from '../kernel/layout.ts';
import type { Machine } from '../machine/machine.ts';
import { PAGE_SIZE } from '../machine/types.ts';
import type { Ghost } from './ghost.ts';
import type { Violation } from './types.ts';

export interface Declared {
  readonly name: string;
  readonly fn: string;
}

/** The first declared invariant false on some CPU at `step`, or undefined. */
export function declaredViolation(
  declared: readonly Declared[],
  routines: CoreRoutines,
  ks: readonly K<CoreRoutines>[],
  L: Layout,
  m: Machine,
  ghost: Ghost,
  step: number,
): Violation | undefined {
  const ev = routines.eval_c;
  if (!ev) return undefined;
  const cr3Mm = (c: number): number => {
    const root = m.cpu(c).cr3Root;
    const mm = L.mms.find((x) => x.pgd === root || x.userPgd === root);
    return mm ? mm.id : -1;
  };
  const view: InvariantView = {
    read: (loc) => m.mem[loc]!,
    cr3Mm,
    tlbHas: (c, mm, va) => {
      const cpu = m.cpu(c);
      if (mm >= 0 && cr3Mm(c) !== mm) return false;
      return cpu.tlb.some((e) => e.vpn === Math.floor(va / PAGE_SIZE) && (mm < 0 || e.global || e.pcid === cpu.cr3Pcid));
    },
    userMm: (c) => ghost.userMm[c] ?? -1,
    flushInFlight: (mm) => ghost.flushes.some((f) => f.mm === mm && !f.kernel && f.returnedAt < 0),
  };
  for (const inv of declared) {
    for (let c = 0; c < ks.length; c++) {
      const r = ev(ks[c]!, inv.fn, view);
      if (r.value) continue;
      const read = r.reads.map((x) => x.what ?? `${L.nameOf(x.loc)} = ${x.val}`);
      return {
        invariant: inv.name,
        cpu: c,
        step,
        message: `${inv.fn}() is false on cpu${c} at step ${step} (it read ${read.join(', ') || 'nothing'})`,
        declared: { fn: inv.fn, reads: r.reads },
      };
    }
  }
  return undefined;
}

/**
 * The monitor: runs the state invariants of the catalogue (index.ts) on the machine's
 * observations after every step. An invariant is one file whose `Invariant` names the
 * observations it judges and its check; adding one is that file plus its line in index.ts.
 */
import type { Layout } from '../kernel/layout.ts';
import type { Machine, Observation } from '../machine/machine.ts';
import { ENGINE_INVARIANTS } from './builtin.ts';
import type { Ghost } from './ghost.ts';
import { INVARIANTS } from './index.ts';
import type { Invariant, MonitorCtx, Violation } from './types.ts';

export class Monitor {
  /**
   * The context every check of this model reads: made once, with its name and root lookups
   * bound, and refilled with the step's state (no objects or closures per step).
   */
  private readonly cx: { -readonly [P in keyof MonitorCtx]: MonitorCtx[P] };
  /** The checked invariants per observation kind, in catalogue order. */
  private readonly byKind = new Map<Observation['o'], Invariant[]>();
  /** The observation kinds some checked invariant judges with the ghost or machine state (not `observationOnly`). */
  private readonly readsState = new Set<Observation['o']>();

  /** `only`: the scenario's invariants that matter (default: all of them; the engine's are always on). */
  constructor(
    private readonly layout: Layout,
    only: readonly string[] | undefined,
    catalogue: readonly Invariant[] = INVARIANTS,
  ) {
    this.cx = {
      layout,
      ghost: undefined as unknown as Ghost,
      m: undefined as unknown as Machine,
      step: 0,
      mmName: (mm) => this.mmName(mm),
      isRootOf: (mm, pfn) => this.isRootOf(mm, pfn),
    };
    for (const inv of catalogue) {
      if (!inv.check) continue;
      if (only !== undefined && !only.includes(inv.id) && !ENGINE_INVARIANTS.includes(inv)) continue;
      for (const kind of inv.observes ?? []) {
        const list = this.byKind.get(kind) ?? [];
        list.push(inv);
        this.byKind.set(kind, list);
        if (inv.observationOnly !== true) this.readsState.add(kind);
      }
    }
  }

  mmName(mm: number): string {
    return this.layout.mmName(mm);
  }

  isRootOf(mm: number, pfn: number): boolean {
    const info = this.layout.mms[mm];
    return info === undefined || info.pgd === pfn || info.userPgd === pfn;
  }

  /** Whether every checked invariant that observes `kind` judges the observation alone (`Invariant.observationOnly`). */
  observationOnly(kind: Observation['o']): boolean {
    return !this.readsState.has(kind);
  }

  /** The first violation among `obs`, in order of observation, then of catalogue. */
  check(obs: readonly Observation[], ghost: Ghost, m: Machine, step: number): Violation | undefined {
    const cx = this.cx;
    cx.ghost = ghost;
    cx.m = m;
    cx.step = step;
    for (const o of obs) {
      const list = this.byKind.get(o.o);
      if (!list) continue;
      for (const inv of list) {
        const v = inv.check!(o, cx);
        if (v) return v;
      }
    }
    return undefined;
  }
}

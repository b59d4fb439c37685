/**
 * How a CPU's effects group into steps (the atomicity rules the engine applies), and the two
 * rule sets: COARSE_STEPS for every check, FINE_STEPS as the reference the comparison test
 * (properties/atomicity.test.ts) holds it to.
 */
import type { Effect } from '../machine/effects.ts';
import type { Machine } from '../machine/machine.ts';
import type { CpuId } from '../machine/types.ts';

/**
 * How a CPU's effects group into steps. One step holds at most one effect that another actor
 * can observe; the rules below fold the others into a neighbouring step, the way a Promela
 * model merges local work into a `d_step`. Each rule is a mover argument (Lipton): an effect
 * that commutes with every other actor's step that could come in between may run together
 * with the step before it (a left mover) or the step after it (a right mover).
 */
export interface Atomicity {
  /**
   * Run `e` inside the step before it, if it commutes with every other actor's step in the
   * current state (a both-mover), or if it is a left mover and `leftOnly(e)`.
   */
  instant(m: Machine, c: CpuId, e: Effect): boolean;
  /**
   * An instant effect that is only a left mover: nothing may be glued after it in the same
   * step (a step is right movers, one visible effect, then left movers). Called after `e` ran.
   */
  leftOnly(m: Machine, c: CpuId, e: Effect): boolean;
  /** After `e`, run the frame's next effect in the same step if it is enabled (`e` is a right mover). */
  glue(e: Effect): boolean;
  /**
   * Serializing effects wait until the drain actor has emptied the store buffer. Otherwise
   * they drain it themselves in one go, which only repeats interleavings the drain actor
   * makes anyway (kept for the comparison test).
   */
  readonly waitForDrain: boolean;
  /**
   * When a `sub` call returns, drop its history from the state (its locals are dead). Off,
   * the callee's history stays part of the caller's identity, as if it had run inline.
   */
  readonly forgetReturnedCalls: boolean;
}

/** The rules every check uses. `properties/atomicity.test.ts` compares them against `FINE_STEPS`. */
export const COARSE_STEPS: Atomicity = {
  instant: (m, c, e) => {
    switch (e.k) {
      case 'load':
        // Data that only this CPU writes, read with IRQs off (so no handler of this CPU can
        // write it in between): the value cannot depend on when the load runs.
        return !m.cpu(c).irqOn && m.soleWriter(c, e.loc);
      case 'store':
        // With IRQs off, appending to the own store buffer is a left mover: only this CPU's
        // drain and its own loads look at the buffer. It is not a right mover (its drain can
        // come right after it), so it is left-only. Page-table stores stay steps (their issue
        // order across CPUs is ghost state), as does a store that must wait for room.
        return !m.cpu(c).irqOn && !m.isPageTable(e.loc) && m.canStore(c, e.loc);
      case 'irq':
        // local_irq_enable is a left mover: until it runs, no IPI can be delivered here. It
        // is not a right mover (an IPI may come right after it), so the step ends there.
        return e.on;
      default:
        return false;
    }
  },
  // A buffered store, and local_irq_enable: see `instant`. (A private store writes memory
  // that no other actor reads: it moves both ways.)
  leftOnly: (m, _c, e) => (e.k === 'irq' && e.on) || (e.k === 'store' && !m.isPrivate(e.loc)),
  // local_irq_disable, and smp_mb() (which runs on an empty store buffer), are right movers:
  // no other actor's step can tell them from a step later.
  glue: (e) => (e.k === 'irq' && !e.on) || e.k === 'mfence',
  waitForDrain: true,
  forgetReturnedCalls: true,
};

/**
 * One observable effect per step, only private data with IRQs off folded in; a returned
 * `sub` call's history is kept. (Finished parts of segmented programs are still forgotten.)
 */
export const FINE_STEPS: Atomicity = {
  instant: (m, c, e) => (e.k === 'load' || e.k === 'store') && m.isPrivate(e.loc) && !m.cpu(c).irqOn,
  leftOnly: () => false,
  glue: () => false,
  waitForDrain: false,
  forgetReturnedCalls: false,
};

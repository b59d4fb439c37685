/**
 * One table of what each effect kind is to the engine: adding a kind to the `Effect` union
 * (effects.ts) fails to compile until it has its row here, and its semantics in the machine
 * (machine.ts) and the engine's dispatch (explore/dispatch.ts `exec`).
 *
 * - `instant`: always runs inside the step before it, without a branch point: ghost markers,
 *   assertions and reads of the CPU's own registers, which no other actor can observe. Other
 *   kinds are steps, unless the atomicity rules (explore/atomicity.ts) fold them in a given state.
 * - `ghostOnly`: an instant effect that neither another actor nor a preemption can tell from a
 *   step later (trace and ghost bookkeeping, assertions): a preemption point skips past it.
 * - `drains`: the instruction first drains the CPU's store buffer (LOCK'd or serializing
 *   instructions, SDM Vol. 3A §9.2.5 / §9.3); with the drain actor the step waits until the
 *   buffer is empty.
 */
import type { EffectKind } from './effects.ts';

export interface EffectKindInfo {
  readonly instant: boolean;
  readonly ghostOnly: boolean;
  readonly drains: boolean;
}

const STEP: EffectKindInfo = { instant: false, ghostOnly: false, drains: false };
const DRAINS: EffectKindInfo = { instant: false, ghostOnly: false, drains: true };
/** Instant, and reads or changes CPU state a preemption could tell apart (registers, preempt_count). */
const INSTANT: EffectKindInfo = { instant: true, ghostOnly: false, drains: false };
const GHOST: EffectKindInfo = { instant: true, ghostOnly: true, drains: false };

export const EFFECT_KINDS: Readonly<Record<EffectKind, EffectKindInfo>> = {
  load: STEP,
  store: STEP,
  rmw: DRAINS,
  mfence: DRAINS,
  wait: STEP,
  cr3: DRAINS,
  invlpg: DRAINS,
  invpcid: DRAINS,
  pge: DRAINS,
  'wrmsr-pasid': DRAINS,
  irq: STEP,
  ipi: STEP,
  // INVLPGB is weakly ordered and not serializing (AMD APM Vol. 3): it does not drain.
  // TLBSYNC waits for this CPU's INVLPGBs and is one of AMD's documented serializing
  // instructions, so like every serializing instruction it drains the store buffer first.
  invlpgb: STEP,
  tlbsync: DRAINS,
  cr4: DRAINS,
  iret: DRAINS,
  access: STEP,
  vload: STEP,
  vstore: STEP,
  'free-page': STEP,
  'reuse-page': STEP,
  'alloc-table': STEP,
  enter: GHOST,
  leave: GHOST,
  assert: GHOST,
  'read-cr3': INSTANT,
  'irqs-disabled': INSTANT,
  'read-pasid-msr': INSTANT,
  // A word nobody writes while this CPU can reach it: no other actor can tell when it is read.
  'read-fixed': INSTANT,
  'mm-life': GHOST,
  'flush-begin': GHOST,
  'flush-end': GHOST,
  'pasid-update-begin': GHOST,
  'pasid-update-end': GHOST,
  'user-running': GHOST,
  // The CPU's preempt_count: only this CPU's scheduler reads it (tasks.ts).
  preempt: INSTANT,
  // A `sub` call is handled by the engine before any rule applies (a new frame).
  sub: INSTANT,
};

/**
 * One table of what each effect kind is to the engine. Adding a kind is its member of the
 * `Effect` union (effects.ts), which fails to compile until it has its row here, plus its
 * semantics: what the machine does (machine.ts) and the engine's call of it (explore/dispatch.ts
 * `exec`, or `execInstant` for an instant kind). Everything else has a default a kind may
 * refine: validation is the row's `check`; a step of the kind is traced by its plain fields
 * (explore/event-data.ts `plainBody`, which the minimizer also renumbers) and named by its kind
 * (explore/describe.ts), while an instant kind is not traced, as the existing ones are not;
 * its footprint comes from the hardware events its semantics emit (explore/footprint.ts).
 * Kernel code reaches it through an fx.ts helper (for TypeScript routines) or an environment
 * function (kc/env-table.ts, for C).
 *
 * - `instant`: always runs inside the step before it, without a branch point: ghost markers,
 *   assertions and reads of the CPU's own registers, which no other actor can observe. Other
 *   kinds are steps, unless the atomicity rules (explore/atomicity.ts) fold them in a given state.
 * - `ghostOnly`: an instant effect that neither another actor nor a preemption can tell from a
 *   step later (trace and ghost bookkeeping, assertions): a preemption point skips past it.
 * - `drains`: the instruction first drains the CPU's store buffer (LOCK'd or serializing
 *   instructions, SDM Vol. 3A §9.2.5 / §9.3); with the drain actor the step waits until the
 *   buffer is empty.
 * - `check`: what is wrong with an effect's fields (locations in memory, ids in range, values
 *   that fit a word), run by machine/validate.ts on every effect its fast path does not pass.
 */
import type { EffectKind } from './effects.ts';
import { type EffectLimits, type Fields, IPI_VIAS, RMW_OPS, addr, bool, isInt, locOf, range, show, str, vaOf, word } from './effect-fields.ts';

export interface EffectKindInfo {
  readonly instant: boolean;
  readonly ghostOnly: boolean;
  readonly drains: boolean;
  /**
   * What is wrong with the fields of an effect of this kind, or undefined (validate.ts runs it
   * on every effect its fast path does not pass).
   */
  readonly check: (x: Fields, lim: EffectLimits) => string | undefined;
}

type Check = EffectKindInfo['check'];
const step = (check: Check): EffectKindInfo => ({ instant: false, ghostOnly: false, drains: false, check });
const drains = (check: Check): EffectKindInfo => ({ instant: false, ghostOnly: false, drains: true, check });
/** Instant, and reads or changes CPU state a preemption could tell apart (registers, preempt_count). */
const instant = (check: Check): EffectKindInfo => ({ instant: true, ghostOnly: false, drains: false, check });
const ghost = (check: Check): EffectKindInfo => ({ instant: true, ghostOnly: true, drains: false, check });
/** A kind with no fields to check. */
const NO_FIELDS: Check = () => undefined;
/** The token a `*-begin` ghost effect returned. */
const beginToken: Check = (x) => (isInt(x['token']) && x['token'] >= 0 ? undefined : `token ${show(x['token'])} is not one a begin effect returned`);

export const EFFECT_KINDS: Readonly<Record<EffectKind, EffectKindInfo>> = {
  load: step((x, lim) => locOf(x, lim)),
  store: step((x, lim) => locOf(x, lim) ?? word(x, 'val')),
  rmw: drains((x, lim) => locOf(x, lim) ?? (RMW_OPS.has(String(x['op'])) ? undefined : `unknown read-modify-write ${show(x['op'])}`) ?? word(x, 'a') ?? (x['b'] === undefined ? undefined : word(x, 'b'))),
  mfence: drains(NO_FIELDS),
  wait: step((x, lim) => locOf(x, lim) ?? (typeof x['until'] === 'function' ? undefined : 'until is not a function') ?? str(x, 'what')),
  cr3: drains((x, lim) => range(x, 'root', lim.pages, 'page') ?? (isInt(x['pcid']) && x['pcid'] >= 0 && x['pcid'] < 4096 ? undefined : `pcid ${show(x['pcid'])} is not 0..4095`) ?? bool(x, 'noflush')),
  invlpg: drains((x) => vaOf(x)),
  invpcid: drains((x) => ([0, 1, 2, 3].includes(x['type'] as number) ? undefined : `INVPCID type ${show(x['type'])} is not 0..3`) ?? (isInt(x['pcid']) && x['pcid'] >= 0 && x['pcid'] < 4096 ? undefined : `pcid ${show(x['pcid'])} is not 0..4095`) ?? vaOf(x)),
  pge: drains((x) => bool(x, 'on')),
  'wrmsr-pasid': drains((x) => word(x, 'val')),
  irq: step((x) => bool(x, 'on')),
  ipi: step((x, lim) => {
    const call = x['call'] as Record<string, unknown> | null | undefined;
    if (!call || typeof call !== 'object') return 'an IPI without a cross-call';
    const c = call as Record<string, unknown>;
    return range(x, 'target', lim.cpus, 'cpu') ?? (IPI_VIAS.has(String(x['via'])) ? undefined : `IPI send ${show(x['via'])} is not lock, mmio or wrmsr`) ?? (isInt(c['sender']) && c['sender'] >= 0 && c['sender'] < lim.cpus ? undefined : `sender cpu ${show(c['sender'])} does not exist`) ?? (typeof c['func'] === 'string' && typeof c['key'] === 'string' ? undefined : 'cross-call func or key is not a string') ?? (isInt(c['csd']) && c['csd'] >= 0 && c['csd'] < lim.words ? undefined : `csd location ${show(c['csd'])} is outside memory`);
  }),
  // INVLPGB is weakly ordered and not serializing (AMD APM Vol. 3): it does not drain.
  // TLBSYNC waits for this CPU's INVLPGBs and is one of AMD's documented serializing
  // instructions, so like every serializing instruction it drains the store buffer first.
  invlpgb: step((x, lim) => {
    const inv = x['inv'] as Record<string, unknown> | null | undefined;
    if (!inv || typeof inv !== 'object') return 'an INVLPGB without its invalidation';
    const opt = (f: string, ok: (v: number) => boolean, what: string): string | undefined => (inv[f] === null || (isInt(inv[f]) && ok(inv[f])) ? undefined : `INVLPGB ${f} ${show(inv[f])} is not null or ${what}`);
    return (
      opt('va', (v) => v >= 0, 'a non-negative address') ??
      (isInt(inv['nr']) && inv['nr'] >= 1 && inv['nr'] <= 65536 ? undefined : `INVLPGB nr ${show(inv['nr'])} is not 1..65536`) ??
      opt('pcid', (v) => v >= 0 && v < 4096, '0..4095') ??
      opt('asid', (v) => v >= 0 && v < 65536, '0..65535') ??
      (typeof inv['global'] === 'boolean' && typeof inv['finalOnly'] === 'boolean' ? undefined : 'INVLPGB global/finalOnly are not booleans')
    );
  }),
  tlbsync: drains(NO_FIELDS),
  cr4: drains((x) => bool(x, 'pge') ?? bool(x, 'pcide')),
  iret: drains(NO_FIELDS),
  access: step((x, lim) => vaOf(x) ?? bool(x, 'write') ?? (x['owner'] === undefined ? undefined : range(x, 'owner', lim.mms, 'mm'))),
  vload: step((x) => vaOf(x)),
  vstore: step((x) => vaOf(x) ?? word(x, 'val')),
  'free-page': step((x, lim) => range(x, 'pfn', lim.pages, 'page')),
  'reuse-page': step((x, lim) => range(x, 'pfn', lim.pages, 'page') ?? word(x, 'fill')),
  'alloc-table': step((x, lim) => range(x, 'pfn', lim.pages, 'page') ?? range(x, 'owner', lim.mms, 'mm') ?? (x['level'] === 'upper' || x['level'] === 'leaf' ? undefined : `table level ${show(x['level'])} is not upper or leaf`) ?? (Array.isArray(x['words']) ? undefined : 'table words are not a list')),
  enter: ghost((x) => str(x, 'fn')),
  leave: ghost(NO_FIELDS),
  assert: ghost((x) => bool(x, 'ok') ?? str(x, 'what') ?? (x['kind'] === 'WARN' || x['kind'] === 'BUG' ? undefined : `assertion kind ${show(x['kind'])} is not WARN or BUG`)),
  'read-cr3': instant(NO_FIELDS),
  'irqs-disabled': instant(NO_FIELDS),
  'read-pasid-msr': instant(NO_FIELDS),
  // A word nobody writes while this CPU can reach it: no other actor can tell when it is read.
  'read-fixed': instant((x, lim) => (isInt(x['loc']) && x['loc'] >= 0 && x['loc'] < lim.words ? undefined : `location ${show(x['loc'])} is outside memory`)),
  'mm-life': ghost((x, lim) => range(x, 'mm', lim.mms, 'mm') ?? bool(x, 'alive')),
  'flush-begin': ghost((x, lim) => range(x, 'mm', lim.mms, 'mm') ?? addr(x, 'start') ?? addr(x, 'end') ?? bool(x, 'kernel')),
  'flush-end': ghost(beginToken),
  'pasid-update-begin': ghost((x, lim) => range(x, 'mm', lim.mms, 'mm') ?? word(x, 'val')),
  'pasid-update-end': ghost(beginToken),
  'user-running': ghost((x, lim) => range(x, 'mm', lim.mms, 'mm') ?? bool(x, 'on')),
  // The CPU's preempt_count: only this CPU's scheduler reads it (tasks.ts).
  preempt: instant((x) => (x['delta'] === 1 || x['delta'] === -1 ? undefined : `preempt delta ${show(x['delta'])} is not 1 or -1`)),
  // A `sub` call is handled by the engine before any rule applies (a new frame).
  sub: instant((x) => str(x, 'fn') ?? (typeof x['make'] === 'function' ? undefined : 'make is not a function')),
};

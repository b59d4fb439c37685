/**
 * The engine's effect dispatch: what each effect a routine yields does to the machine and the
 * ghost state, and whether it is instant (runs inside the step before it) or a step of its own.
 * The per-kind facts are in machine/effect-kinds.ts; the semantics are the Machine's methods.
 */
import type { AccessOutcome, AccessResult, Effect } from '../machine/effects.ts';
import { EFFECT_KINDS } from '../machine/effect-kinds.ts';
import { type CpuId, entryLoc, entryPfn, entryPresent, leafIndex, upperIndex } from '../machine/types.ts';
import type { Covered } from '../invariants/ghost.ts';
import { ModelError } from '../errors.ts';
import type { Frame } from './frames.ts';
import type { Sim } from './sim.ts';

export function isInstant(s: Sim, c: CpuId, e: Effect): boolean {
  // With NMIs, IRQs off no longer keep other code of this CPU away: the NMI handler reads
  // per-CPU data (loaded_mm, current->mm), so every load and store is a step of its own.
  if (s.hasNmi && (e.k === 'load' || e.k === 'store')) return false;
  return EFFECT_KINDS[e.k].instant || s.model.atomicity.instant(s.m, c, e);
}

export function execInstant(s: Sim, c: CpuId, f: Frame, e: Effect): unknown {
  const m = s.m;
  switch (e.k) {
    case 'enter':
      f.fns = { name: e.fn, up: f.fns };
      return undefined;
    case 'leave':
      f.fns = f.fns?.up ?? null;
      return undefined;
    case 'assert':
      if (!e.ok) {
        s.violation = {
          invariant: 'kernel-assertion',
          cpu: c,
          step: s.step,
          message: `${e.kind} in ${f.fns?.name ?? '?'} on cpu${c}: ${e.what}`,
        };
        if (s.trace) s.record(c, f.handler ? 'irq' : 'cpu', `${e.kind}: ${e.what}`, undefined, undefined, { k: 'assert', kind: e.kind, what: e.what });
      }
      return undefined;
    case 'read-cr3':
      return { root: m.cpu(c).cr3Root, pcid: m.cpu(c).cr3Pcid };
    case 'irqs-disabled':
      return !m.cpu(c).irqOn;
    case 'read-pasid-msr':
      return m.cpu(c).pasidMsr;
    case 'read-fixed':
      return m.load(c, e.loc);
    case 'mm-life':
      m.mmLife(e.mm);
      if (s.trace) {
        const L = s.model.layout;
        const gen = m.mmGen[e.mm] ?? 0;
        const name = L.mmNameAt(e.mm, gen);
        const at = name === L.mmName(e.mm) ? '' : ` at ${L.mmName(e.mm)}'s address`;
        s.record(c, 'ghost', `${name}'s mm_struct ${e.alive ? `allocated${at}` : 'freed'} (generation ${gen})`, undefined, undefined, { k: 'mm-life', mm: e.mm, mmName: name, alive: e.alive, gen });
      }
      return undefined;
    case 'flush-begin':
      m.events?.push({ k: 'ghost' });
      return flushBegin(s, c, e.mm, e.start, e.end, e.kernel);
    case 'flush-end': {
      m.events?.push({ k: 'ghost' });
      const rec = s.ghost.flushes[e.token];
      if (!rec) throw new ModelError(`flush-end with token ${e.token}, which no flush-begin returned (cpu${c}, step ${s.step})`);
      // Records are shared between clones (Ghost.clone): a change is a new record.
      s.ghost.flushes[e.token] = { ...rec, returnedAt: s.step };
      if (s.trace) s.record(c, 'ghost', `flush of ${s.model.layout.mmName(rec.mm)} returns to its caller`, undefined, undefined, { k: 'flush-return', mm: rec.mm, mmName: s.model.layout.mmName(rec.mm), kernel: rec.kernel });
      return undefined;
    }
    case 'pasid-update-begin':
      m.events?.push({ k: 'ghost' });
      s.ghost.pasid.push({ cpu: c, mm: e.mm, val: e.val, returnedAt: -1 });
      return s.ghost.pasid.length - 1;
    case 'pasid-update-end': {
      m.events?.push({ k: 'ghost' });
      const rec = s.ghost.pasid[e.token];
      if (rec) s.ghost.pasid[e.token] = { ...rec, returnedAt: s.step };
      return undefined;
    }
    case 'user-running':
      m.events?.push({ k: 'ghost' });
      s.ghost.userMm[c] = e.on ? e.mm : -1;
      return undefined;
    case 'preempt': {
      const n = s.tasks.preempt[c]! + e.delta;
      if (n < 0) throw new ModelError(`preempt_enable() without preempt_disable() in ${f.fns?.name ?? f.id} on cpu${c} (step ${s.step})`);
      s.tasks.preempt[c] = n;
      return undefined;
    }
    case 'load':
      return softLoad(s, c, e);
    case 'store':
      m.store(c, e.loc, e.val);
      return undefined;
    case 'irq':
      m.setIrq(c, e.on);
      return undefined;
    default:
      throw new Error(`[tlbcheck bug] ${e.k} is not instant`);
  }
}

/** A load; a software walker's (`walk`) is also a walk-read of the table page (GUP-fast). */
function softLoad(s: Sim, c: CpuId, e: Extract<Effect, { k: 'load' }>): number {
  const v = s.m.load(c, e.loc);
  if (e.walk) s.m.softWalkRead(c, e.loc, e.walk, e.walk.mm ?? s.m.load(c, s.model.layout.pcpu(c, 'cur_mm')));
  return v;
}

/** What the flusher's writes to the covered addresses are, as it sees them now. */
function flushBegin(s: Sim, c: CpuId, mm: number, start: number, end: number, kernel: boolean): number {
  const m = s.m;
  const pgd = s.model.layout.mm(mm).pgd;
  const covered: Covered[] = [];
  for (const va of s.vas) {
    if (va < start || va >= end) continue;
    const upperLoc = entryLoc(pgd, upperIndex(va));
    const upperWid = m.visibleWid(c, upperLoc);
    const ue = m.load(c, upperLoc);
    if (entryPresent(ue)) {
      const leafLoc = entryLoc(entryPfn(ue), leafIndex(va));
      covered.push({ va, upperLoc, upperWid, leafLoc, leafWid: m.visibleWid(c, leafLoc) });
    } else {
      covered.push({ va, upperLoc, upperWid });
    }
  }
  s.ghost.flushes.push({ cpu: c, mm, start, end, kernel, covered, beganAt: s.step, returnedAt: -1 });
  return s.ghost.flushes.length - 1;
}

/**
 * What the routine that ran effect `e` gets back from `out`, what `exec` returned: an access's
 * outcome without `viaTlb`, which is for the trace only (effects.ts `AccessOutcome`); anything
 * else as it is.
 */
export function routineInput(e: Effect, out: unknown): unknown {
  if (e.k !== 'access' && e.k !== 'vstore' && e.k !== 'vload') return out;
  const r = out as AccessOutcome;
  if (!r.ok) return r;
  const res: AccessResult = r.val === undefined ? { ok: true, pfn: r.pfn } : { ok: true, pfn: r.pfn, val: r.val };
  return res;
}

/** Execute one step effect; `early`: an access uses an early not-present walk. */
export function exec(s: Sim, c: CpuId, f: Frame, e: Effect, early = false): unknown {
  const m = s.m;
  switch (e.k) {
    case 'load':
      return softLoad(s, c, e);
    case 'store':
      m.store(c, e.loc, e.val);
      return undefined;
    case 'rmw':
      return m.rmw(c, e.loc, e.op, e.a, e.b);
    case 'mfence':
      m.drainAll(c);
      return undefined;
    case 'wait':
      return m.load(c, e.loc);
    case 'cr3':
      fault(s, c, m.writeCr3(c, e.root, e.pcid, e.noflush));
      return undefined;
    case 'invlpg':
      m.invlpg(c, e.va);
      return undefined;
    case 'invpcid':
      fault(s, c, m.invpcid(c, e.type, e.pcid, e.va));
      return undefined;
    case 'invlpgb':
      fault(s, c, m.invlpgb(c, e.inv));
      return undefined;
    case 'tlbsync':
      fault(s, c, m.tlbsync(c));
      return undefined;
    case 'pge':
      m.writePge(c, e.on);
      return undefined;
    case 'wrmsr-pasid':
      m.wrmsrPasid(c, e.val);
      return undefined;
    case 'irq':
      m.setIrq(c, e.on);
      return undefined;
    case 'ipi':
      m.queueCall(c, e.target, e.call, e.via);
      return undefined;
    case 'cr4':
      fault(s, c, m.writeCr4(c, e.pge, e.pcide));
      return undefined;
    case 'iret':
      if (!f.handler) throw new ModelError(`IRET outside an interrupt handler in ${f.fns?.name ?? f.id} (cpu${c}, step ${s.step})`);
      m.iret(c);
      return undefined;
    case 'access': {
      const owner = e.owner ?? (f.handler ? -1 : s.ghost.userMm[c]!);
      const root = m.cpu(c).cr3Root;
      const r: AccessOutcome = m.access(c, e.va, e.write, early);
      // After the access's own observations: access-through-own-mm reports only where no
      // other invariant broke at this access (theirs say more).
      if (owner >= 0) m.obs.push({ o: 'own-access', cpu: c, va: e.va, owner, root, kernel: e.owner !== undefined });
      return r;
    }
    case 'vload':
      return m.loadVia(c, m.access(c, e.va, false, early));
    case 'vstore': {
      const r = m.access(c, e.va, true, early);
      if (r.ok) m.store(c, m.dataLoc(r.pfn), e.val);
      return r;
    }
    case 'free-page':
      m.freePage(e.pfn);
      return undefined;
    case 'reuse-page':
      return m.reusePage(e.pfn, e.fill);
    case 'alloc-table':
      return m.allocTable(e.pfn, e.level, e.owner, e.words);
    default:
      return execInstant(s, c, f, e);
  }
}

function fault(s: Sim, c: CpuId, what: string | undefined): void {
  if (what === undefined) return;
  const fs = s.frames[c]!;
  const fn = fs[fs.length - 1]?.fns?.name ?? '?';
  s.violation = { invariant: 'no-cpu-fault', cpu: c, step: s.step, message: `cpu${c} in ${fn}: ${what}` };
}

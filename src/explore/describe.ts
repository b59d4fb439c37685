/**
 * Human text for trace events: `cpu0`, `mmA`, `va 0x1000`, `pfn 7`. Pure functions; only
 * called when a trace is being recorded.
 */
import type { AccessOutcome, CrossCall, Effect, InvlpgbSpec } from '../machine/effects.ts';
import type { BcastInval, WalkPlan } from '../machine/machine.ts';
import { entryPfn, entryPresent, hex } from '../machine/types.ts';
import type { Layout } from '../kernel/layout.ts';
import { callTextV4 } from '../kernel/call-text.ts';
import type { Model } from './engine.ts';
import { type Move, MoveKind, moveKind } from './strategy.ts';

function entryText(v: number): string {
  return entryPresent(v) ? `-> pfn ${entryPfn(v)}` : 'not present';
}

/** A value as it reads at `loc` (exported for event-data.ts). */
export function valueText(L: Layout, loc: number, v: number): string {
  const name = L.nameOf(loc);
  if (loc < L.base) return entryText(v);
  if (name.endsWith('.cpumask')) return `{${[...Array(L.cpus).keys()].filter((c) => (v >>> c) & 1).join(',')}}`;
  if (name.endsWith('loaded_mm') || name.endsWith('active_mm') || name.endsWith('cur_mm')) return L.mmName(v);
  return String(v);
}

function pgdName(L: Layout, root: number): string {
  const mm = L.mms.find((m) => m.pgd === root);
  return mm ? `${mm.name}.pgd` : `pfn ${root}`;
}

export function describeEffect(e: Effect, out: unknown, L: Layout): string {
  switch (e.k) {
    case 'load':
      return `load ${L.nameOf(e.loc)} = ${valueText(L, e.loc, out as number)}`;
    case 'store':
      return `store ${L.nameOf(e.loc)} := ${valueText(L, e.loc, e.val)}${L.owners[e.loc - L.base] !== undefined && L.owners[e.loc - L.base]! >= 0 ? '' : ' (buffered)'}`;
    case 'rmw':
      return `lock ${e.op} ${L.nameOf(e.loc)} (was ${valueText(L, e.loc, out as number)})`;
    case 'mfence':
      return 'smp_mb: store buffer drained';
    case 'wait':
      return `${e.what}: ${L.nameOf(e.loc)} = ${out as number}`;
    case 'cr3':
      return `mov cr3 := ${pgdName(L, e.root)}${e.pcid ? ` pcid ${e.pcid}` : ''}${e.noflush ? ' NOFLUSH' : ''}`;
    case 'invlpg':
      return `invlpg va ${hex(e.va)}`;
    case 'invpcid':
      return `invpcid type ${e.type} pcid ${e.pcid}${e.type === 0 ? ` va ${hex(e.va)}` : ''}`;
    case 'pge':
      return `cr4.pge := ${e.on ? 1 : 0}`;
    case 'wrmsr-pasid':
      return `wrmsr IA32_PASID := ${e.val}`;
    case 'irq':
      return e.on ? 'local_irq_enable' : 'local_irq_disable';
    case 'ipi':
      return `queue ${callTextV4(L, e.call)} on cpu${e.target} + IPI${e.via === 'lock' ? '' : e.via === 'mmio' ? ': xAPIC ICR store (buffered)' : ': x2APIC WRMSR, not serializing'}`;
    case 'iret':
      return 'iret';
    case 'access':
      return `user ${e.write ? 'write' : 'read'} va ${hex(e.va)}: ${accessText(out as AccessOutcome)}`;
    case 'vload': {
      const r = out as AccessOutcome;
      return `load va ${hex(e.va)}: ${accessText(r)}${r.ok ? ` = ${r.val ?? '?'}` : ''}`;
    }
    case 'vstore':
      return `store va ${hex(e.va)} := ${e.val}: ${accessText(out as AccessOutcome)}${(out as AccessOutcome).ok ? ' (buffered)' : ''}`;
    case 'cr4':
      return `mov cr4 := ${e.pge ? 'PGE' : '-PGE'},${e.pcide ? 'PCIDE' : '-PCIDE'}`;
    case 'invlpgb':
      return `invlpgb ${invlpgbText(e.inv)} (queued on every cpu)`;
    case 'tlbsync':
      return 'tlbsync: own INVLPGBs done everywhere';
    case 'free-page':
      return `free pfn ${e.pfn}`;
    case 'reuse-page':
      return out === false ? `pfn ${e.pfn} still in use: not handed out` : `pfn ${e.pfn} reused as data`;
    case 'alloc-table':
      return out === false ? `pfn ${e.pfn} still in use: not handed out` : `pfn ${e.pfn} allocated as a ${e.level === 'upper' ? 'pgd' : 'PTE page'} of ${L.mmName(e.owner)}`;
    default:
      return e.k;
  }
}

/** `va 0x1000 x1 pcid 2 +global`: what an INVLPGB matches. */
export function invlpgbText(inv: InvlpgbSpec): string {
  const parts: string[] = [];
  parts.push(inv.va === null ? 'any va' : `va ${hex(inv.va)}${inv.nr > 1 ? ` x${inv.nr}` : ''}`);
  parts.push(inv.pcid === null ? 'any pcid' : `pcid ${inv.pcid}`);
  if (inv.asid !== null) parts.push(`asid ${inv.asid}`);
  if (inv.global) parts.push('+global');
  if (inv.finalOnly) parts.push('final-only');
  return parts.join(' ');
}

/** A broadcast actor's step: which CPU's INVLPGB it applied, and what that dropped. */
export function describeBcast(inv: BcastInval, tlb: number, psc: number): string {
  return `apply INVLPGB from cpu${inv.from} (${invlpgbText(inv)}): dropped ${tlb} TLB, ${psc} PSC entries`;
}

function accessText(r: AccessOutcome): string {
  if (r.ok) return `pfn ${r.pfn} via ${r.viaTlb ? 'TLB hit' : 'walk'}`;
  const why = r.fault === 'read-only' ? 'write to a read-only page' : 'not present';
  return `page fault (${why}${r.early ? ', from an early walk' : ''})`;
}

export function describeWalk(va: number, plan: WalkPlan | undefined): string {
  const fills: string[] = [];
  if (plan?.psc) fills.push(`PSC <- upper entry -> pfn ${plan.psc.leafPfn}`);
  if (plan?.tlb) fills.push(`TLB <- pfn ${plan.tlb.pfn} (pte version ${plan.tlb.rec.leafWid})`);
  const via = plan?.reads.some((r) => r.viaPsc) ? ' via cached upper entry' : '';
  const none = plan && !plan.tlb ? 'not present (an access may use this until a serializing instruction)' : 'fills nothing';
  return `speculative walk of va ${hex(va)}${via}: ${fills.length ? fills.join(', ') : none}${fills.length && plan && !plan.tlb ? ', not present' : ''}`;
}

export function describeMove(mv: Move, model: Model, extra: number | readonly CrossCall[]): string {
  switch (moveKind(mv)) {
    case MoveKind.Walk:
      return `speculative walk of va ${hex(extra as number)}`;
    case MoveKind.Ipi:
      return `take IPI: ${(extra as readonly CrossCall[]).map((c) => `${callTextV4(model.layout, c)} from cpu${c.sender}`).join(', ')}`;
    default:
      return `move ${mv} in ${model.cfg.scenario.id}`;
  }
}

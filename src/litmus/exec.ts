/**
 * The effects of one litmus instruction on the shared machine: each x86 instruction maps onto
 * the effect helpers the kernel routines use (`fx.store`, `fx.xchg`, `fx.smpMb`,
 * `fx.writeCr3`, `fx.invlpg`, `fx.access`, `fx.sendCall`...), so litmus tests check the very
 * rules that check the kernel. Register traffic goes to the CPU's private words.
 */
import * as fx from '../kernel/fx.ts';
import type { IpiVia } from '../machine/effects.ts';
import { makeEntry, NOT_ACCESSED, NOT_DIRTY, NOT_WRITABLE } from '../machine/types.ts';
import type { Instr, PteFlag, Src } from './ast.ts';
import type { LitmusCall, LitmusEnv } from './harness.ts';

/** Where the translation objects of a test are, resolved once the world is built. */
export interface TransWorld {
  pfn(page: string): number;
  va(name: string): number;
  pgd(mm: string): number;
  pteLoc(mm: string, va: string): number;
  pmdLoc(mm: string, va: string): number;
  leafPfn(mm: string, va: string): number;
  /** Handler code of thread `t`'s CPU. */
  handler(t: number): readonly Instr[];
}

/** What `LOAD EAX,u` puts in EAX when the access faults. */
export const FAULT = -1;

/** The inverted flag bits (types.ts) of a mapping's flags. */
export function flagBits(flags: readonly PteFlag[]): number {
  let b = 0;
  for (const f of flags) b |= f === 'RO' ? NOT_WRITABLE : f === 'CLEAN' ? NOT_DIRTY : NOT_ACCESSED | NOT_DIRTY;
  return b;
}

/** Name of the hidden location an IPI's sender waits on (the csd lock word). */
export const csdName = (from: number, to: number): string => `csd:${from}->${to}`;

function* value(env: LitmusEnv, s: Src): fx.Routine<number> {
  return s.k === 'imm' ? s.v : yield* fx.load(env.reg(s.r));
}

export function* execCode(env: LitmusEnv, code: readonly Instr[], w: TransWorld): fx.Routine {
  for (const ins of code) yield* exec(env, ins, w);
}

function* exec(env: LitmusEnv, ins: Instr, w: TransWorld): fx.Routine {
  switch (ins.op) {
    case 'store':
      return yield* fx.store(env.loc(ins.loc), yield* value(env, ins.src));
    case 'load':
      return yield* fx.store(env.reg(ins.reg), yield* fx.load(env.loc(ins.loc)));
    case 'movr':
      return yield* fx.store(env.reg(ins.reg), yield* value(env, ins.src));
    case 'addr': {
      const d = yield* value(env, ins.src);
      return yield* fx.store(env.reg(ins.reg), (yield* fx.load(env.reg(ins.reg))) + d);
    }
    case 'mfence':
      return yield* fx.smpMb();
    case 'xchg': {
      const old = yield* fx.xchg(env.loc(ins.loc), yield* fx.load(env.reg(ins.reg)));
      return yield* fx.store(env.reg(ins.reg), old);
    }
    case 'xadd': {
      const old = yield* fx.xadd(env.loc(ins.loc), yield* value(env, ins.src));
      if (ins.ret !== undefined) yield* fx.store(env.reg(ins.ret), old);
      return;
    }
    case 'setpte':
      return yield* fx.store(w.pteLoc(ins.mm, ins.va), ins.page === null ? 0 : makeEntry(w.pfn(ins.page), ins.mm === 'kernel', flagBits(ins.flags)));
    case 'clrpmd':
      return yield* fx.store(w.pmdLoc(ins.mm, ins.va), 0);
    case 'setpmd':
      return yield* fx.store(w.pmdLoc(ins.mm, ins.va), makeEntry(w.leafPfn(ins.mm, ins.to)));
    case 'vload': {
      const r = yield* fx.vload(w.va(ins.va));
      return yield* fx.store(env.reg(ins.reg), r.ok ? (r.val ?? 0) : FAULT);
    }
    case 'vstore': {
      const v = yield* value(env, ins.src);
      yield* fx.vstore(w.va(ins.va), v);
      return;
    }
    case 'cr4':
      return yield* fx.writeCr4(ins.pge, ins.pcide);
    case 'invlpg':
      return yield* fx.invlpg(w.va(ins.va));
    case 'invpcid':
      return yield* fx.invpcid(ins.type, ins.pcid, ins.va === null ? 0 : w.va(ins.va));
    case 'cr3':
      return yield* fx.writeCr3(w.pgd(ins.mm), ins.pcid, ins.noflush);
    case 'invlpgb':
      return yield* fx.invlpgb({ va: ins.va === null ? null : w.va(ins.va), nr: 1, pcid: ins.pcid, asid: ins.asid, global: ins.global, finalOnly: ins.finalOnly });
    case 'tlbsync':
      return yield* fx.tlbsync();
    case 'access': {
      const r = yield* fx.access(w.va(ins.va), false);
      return yield* fx.store(env.reg(ins.reg), r.ok ? r.pfn : 0);
    }
    case 'ipi':
      if (ins.fence) yield* fx.smpMb('weak_wrmsr_fence: mfence; lfence');
      return yield* ipi(env, ins.target, ins.wait, ins.via, w);
    case 'irq':
      return yield* (ins.on ? fx.irqEnable() : fx.irqDisable());
    case 'freept':
      return yield* fx.freePage(w.leafPfn(ins.mm, ins.va));
    case 'reusept':
      return yield* fx.reusePage(w.leafPfn(ins.mm, ins.va), ins.page === null ? 0 : makeEntry(w.pfn(ins.page)));
    default: {
      const never: never = ins;
      throw new Error(`[tlbcheck bug] litmus instruction ${String(never)}`);
    }
  }
}

/**
 * Send an IPI whose handler is column `H<target>`. With WAIT the sender spins on a csd lock
 * word that the handler releases last, as `smp_call_function_single(wait=1)` does.
 */
function* ipi(env: LitmusEnv, target: number, wait: boolean, via: IpiVia, w: TransWorld): fx.Routine {
  const csd = env.loc(csdName(env.cpu, target));
  const there: LitmusEnv = { cpu: target, loc: env.loc, reg: (r) => env.loc(`${target}:${r}`) };
  const payload: LitmusCall = function* () {
    yield* execCode(there, w.handler(target), w);
    if (wait) yield* fx.store(csd, 0, 'csd_unlock');
  };
  if (wait) yield* fx.store(csd, 1, 'csd_lock');
  // The name tells a waited-for call from an async one in state fingerprints.
  yield* fx.sendCall(target, { sender: env.cpu, fn: wait ? `H${target}(wait)` : `H${target}`, payload, csd }, undefined, via);
  if (wait) yield* fx.waitUntil(csd, (v) => v === 0, `thread ${target} ran H${target}`);
}

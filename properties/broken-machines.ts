/**
 * Machines with one hardware rule broken on purpose, for the tests that show a broken rule
 * changes a verdict. A substituted machine turns partial-order reduction off (the harness
 * cannot trust its footprints), so each of them is explored in full.
 */
import type { CrossCall, EffectKind, InvlpgbSpec, IpiVia } from '../src/machine/effects.ts';
import { Machine, type MachineInit, type WalkPlan } from '../src/machine/machine.ts';
import { upperIndex, vpnOf } from '../src/machine/types.ts';

/** Loads ignore the CPU's own store buffer: breaks store forwarding (x86-TSO). */
export class NoForwardingMachine extends Machine {
  override load(_c: number, loc: number): number {
    return this.mem[loc]!;
  }
}

/** The walker reads its own CPU's store buffer: breaks "walks read memory". */
export class WalkerSeesSbMachine extends Machine {
  override planWalk(c: number, va: number) {
    // Memory is swapped in place and back around the walk (it may be shared with a clone,
    // which never runs in between).
    const mem = this.mem as number[];
    const saved = this.cpu(c).sb.map((e) => [e.loc, mem[e.loc]!] as const);
    for (const e of this.cpu(c).sb) mem[e.loc] = e.val;
    try {
      return super.planWalk(c, va);
    } finally {
      for (const [l, v] of saved) mem[l] = v;
    }
  }
}

/** INVLPG drops only the paging-structure-cache entry of its own address (SDM: all of the PCID's). */
export class InvlpgKeepsPscMachine extends Machine {
  override invlpg(c: number, va: number): void {
    const cpu = this.mut(c);
    const saved = cpu.psc.slice();
    super.invlpg(c, va);
    cpu.psc = saved.filter((e) => e.pcid !== cpu.cr3Pcid || e.ui !== upperIndex(va));
  }
}

/**
 * A drain reports only its store buffer, not the word it writes: a wrong dependence relation
 * for partial-order reduction (the drain looks independent of loads of that word).
 */
export class DrainHidesWriteMachine extends Machine {
  override drainOne(c: number) {
    const events = this.events;
    const n = events?.length ?? 0;
    const e = super.drainOne(c);
    // Keep the drain event, drop what the commit reported (its word, the early-walk probes).
    if (events) events.length = n + 1;
    return e;
  }
}

// ---- issue 17: one broken rule per new hardware rule ----

/** Walks are ordered after earlier loads: a not-present walk is never remembered for an access. */
export class NoEarlyWalksMachine extends Machine {
  protected override noteEarly(): void {}
}

/** Interrupt delivery leaves the receiving CPU's store buffer alone. */
export class NoDrainOnInterruptMachine extends Machine {
  override deliveryDrains(): boolean {
    return false;
  }
}

/** IRET is not serializing: it leaves the store buffer alone. */
export class IretNoDrainMachine extends Machine {
  override drainsFirst(k: EffectKind): boolean {
    return k !== 'iret' && super.drainsFirst(k);
  }
}

/** Every IPI send drains the sender's store buffer, as a LOCK'd one does (x2APIC WRMSR and xAPIC ICR store included). */
export class IpiAlwaysDrainsMachine extends Machine {
  override queueCall(c: number, target: number, call: CrossCall, _via: IpiVia = 'lock'): void {
    super.queueCall(c, target, call, 'lock');
  }
}

/** Translated accesses ignore the TLB (always walk): no stale data through a cached translation. */
export class DataIgnoresTlbMachine extends Machine {
  override access(c: number, va: number, write = false, early = false) {
    const vpn = vpnOf(va);
    this.mut(c).tlb = this.cpu(c).tlb.filter((e) => e.vpn !== vpn);
    return super.access(c, va, write, early);
  }
}

/** Walks never use the paging-structure cache (always read the upper entry from memory). */
export class NoPscMachine extends Machine {
  override walk(c: number, va: number, speculative: boolean, write = false) {
    const plan = super.walk(c, va, speculative, write);
    this.mut(c).psc = [];
    return plan;
  }

  override prefill(c: number, root: number, pcid: number, va: number): void {
    super.prefill(c, root, pcid, va);
    this.mut(c).psc = [];
  }
}

/** A page fault invalidates nothing. */
export class NoFaultInvalidationMachine extends Machine {
  protected override pageFault(c: number, va: number, fault: 'not-present' | 'read-only', early = false) {
    const cpu = this.mut(c);
    const [tlb, psc, ea] = [cpu.tlb.slice(), cpu.psc.slice(), cpu.early.slice()];
    const r = super.pageFault(c, va, fault, early);
    [cpu.tlb, cpu.psc, cpu.early] = [tlb, psc, ea];
    return r;
  }
}

/** The walker never updates accessed/dirty flags. */
export class NoAdUpdateMachine extends Machine {
  protected override setAccessedDirty(plan: WalkPlan) {
    return plan;
  }
}

/** A write through a cached writable entry never walks again, dirty or not. */
export class WriteUsesCleanEntryMachine extends Machine {
  override access(c: number, va: number, write = false, early = false) {
    const cpu = this.mut(c);
    cpu.tlb = cpu.tlb.map((e) => (e.writable && !e.dirty ? { ...e, dirty: true } : e));
    return super.access(c, va, write, early);
  }
}

/** MOV to CR4 invalidates nothing. */
export class Cr4KeepsTlbMachine extends Machine {
  override writeCr4(c: number, pge: boolean, pcide: boolean) {
    const cpu = this.mut(c);
    const [tlb, psc] = [cpu.tlb.slice(), cpu.psc.slice()];
    const r = super.writeCr4(c, pge, pcide);
    [cpu.tlb, cpu.psc] = [tlb, psc];
    return r;
  }
}

// ---- issue 16: AMD broadcast invalidation, one broken rule each ----

/** TLBSYNC that does not wait: it completes with the CPU's INVLPGBs still pending elsewhere. */
export class TlbsyncNoWaitMachine extends Machine {
  override tlbsyncDone(): boolean {
    return true;
  }
  override tlbsync(c: number): string | undefined {
    return this.features.invlpgb ? undefined : super.tlbsync(c);
  }
}

/** TLBSYNC that waits for every CPU's INVLPGBs, not only its own. */
export class TlbsyncWaitsForAllMachine extends Machine {
  override tlbsyncDone(): boolean {
    return this.cpus.every((c) => c.inbox.length === 0);
  }
}

/** INVLPGB that invalidates every CPU at once (synchronous, as if each were an IPI'd INVLPG). */
export class InvlpgbSyncMachine extends Machine {
  override invlpgb(c: number, inv: InvlpgbSpec): string | undefined {
    const r = super.invlpgb(c, inv);
    for (let t = 0; t < this.cpus.length; t++) while (this.cpu(t).inbox.some((b) => b.from === c)) this.applyBcast(t, c);
    return r;
  }
}

/** INVLPGB that drains the issuer's store buffer first, as a serializing instruction does. */
export class InvlpgbDrainsMachine extends Machine {
  override drainsFirst(k: EffectKind): boolean {
    return k === 'invlpgb' || super.drainsFirst(k);
  }
  override invlpgb(c: number, inv: InvlpgbSpec): string | undefined {
    this.drainAll(c);
    return super.invlpgb(c, inv);
  }
}

/** A CPU without the invlpg-miss erratum, whatever the features say: INVLPG always drops the global entry. */
export class NoInvlpgMissMachine extends Machine {
  constructor(init: MachineInit, from?: Machine) {
    // `init` is unused when copying (see Machine.clone).
    super(from ? init : { ...init, features: { ...init.features, 'invlpg-miss': false } }, from);
  }
}

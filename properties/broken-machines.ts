/**
 * Machines with one hardware rule broken on purpose, for the tests that show a broken rule
 * changes a verdict. A substituted machine turns partial-order reduction off (the harness
 * cannot trust its footprints), so each of them is explored in full.
 */
import { Machine } from '../src/machine/machine.ts';
import { upperIndex } from '../src/machine/types.ts';

/** Loads ignore the CPU's own store buffer: breaks store forwarding (x86-TSO). */
export class NoForwardingMachine extends Machine {
  override load(_c: number, loc: number): number {
    return this.mem[loc]!;
  }
}

/** The walker reads its own CPU's store buffer: breaks "walks read memory". */
export class WalkerSeesSbMachine extends Machine {
  override planWalk(c: number, va: number) {
    const saved = this.cpu(c).sb.map((e) => [e.loc, this.mem[e.loc]!] as const);
    for (const e of this.cpu(c).sb) this.mem[e.loc] = e.val;
    try {
      return super.planWalk(c, va);
    } finally {
      for (const [l, v] of saved) this.mem[l] = v;
    }
  }
}

/** INVLPG drops only the paging-structure-cache entry of its own address (SDM: all of the PCID's). */
export class InvlpgKeepsPscMachine extends Machine {
  override invlpg(c: number, va: number): void {
    const cpu = this.cpu(c);
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
    const saved = this.fp;
    this.fp = saved ? [] : null;
    try {
      return super.drainOne(c);
    } finally {
      if (saved) saved.push(this.resSb(c) * 2 + 1);
      this.fp = saved;
    }
  }
}

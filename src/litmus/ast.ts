/**
 * The parsed form of a litmus file: herd7's `X86` tests plus tlbcheck's translation
 * extension (README "tlbcheck litmus"). Plain data; `parse.ts` builds it, `compile.ts` turns
 * it into a harness spec and `cond.ts` evaluates its final condition.
 */

/** An operand as written: `[x]`, `$1`, `EAX`, `A:u` (va u in mm A), a bare name, a number. */
export type Operand =
  | { readonly k: 'mem'; readonly loc: string }
  | { readonly k: 'imm'; readonly v: number }
  | { readonly k: 'reg'; readonly r: string }
  | { readonly k: 'ref'; readonly mm: string; readonly va: string }
  | { readonly k: 'name'; readonly id: string }
  | { readonly k: 'num'; readonly v: number };

/** A value source: an immediate or a register of the executing thread. */
export type Src = { readonly k: 'imm'; readonly v: number } | { readonly k: 'reg'; readonly r: string };

export type Instr = { readonly line: number } & (
  | { readonly op: 'store'; readonly loc: string; readonly src: Src }
  | { readonly op: 'load'; readonly reg: string; readonly loc: string }
  | { readonly op: 'movr'; readonly reg: string; readonly src: Src }
  | { readonly op: 'addr'; readonly reg: string; readonly src: Src }
  | { readonly op: 'mfence' }
  | { readonly op: 'xchg'; readonly loc: string; readonly reg: string }
  /** LOCK ADD / LOCK INC / LOCK XADD (`ret`: the register that receives the old value). */
  | { readonly op: 'xadd'; readonly loc: string; readonly src: Src; readonly ret?: string }
  // ---- translation extension ----
  /** Plain store to the PTE of `va` in `mm`: map it to `page` (with `flags`), or unmap it (null). */
  | { readonly op: 'setpte'; readonly mm: string; readonly va: string; readonly page: string | null; readonly flags: readonly PteFlag[] }
  /** Plain store of 0 to the upper entry covering `va` in `mm` (detach its leaf table). */
  | { readonly op: 'clrpmd'; readonly mm: string; readonly va: string }
  /** Plain store re-pointing the upper entry over `va` in `mm` at the leaf table of `to`. */
  | { readonly op: 'setpmd'; readonly mm: string; readonly va: string; readonly to: string }
  /** Data load / store through the translation of `va` (word 0 of the page it maps). */
  | { readonly op: 'vload'; readonly reg: string; readonly va: string }
  | { readonly op: 'vstore'; readonly va: string; readonly src: Src }
  /** MOV to CR4 with PGE and PCIDE set as listed (the others clear). */
  | { readonly op: 'cr4'; readonly pge: boolean; readonly pcide: boolean }
  | { readonly op: 'invlpg'; readonly va: string }
  | { readonly op: 'invpcid'; readonly type: 0 | 1 | 2 | 3; readonly pcid: number; readonly va: string | null }
  | { readonly op: 'cr3'; readonly mm: string; readonly pcid: number; readonly noflush: boolean }
  /** INVLPGB (AMD): `va` null matches any address; the options as in `InvlpgbSpec`. */
  | { readonly op: 'invlpgb'; readonly va: string | null; readonly pcid: number | null; readonly asid: number | null; readonly global: boolean; readonly finalOnly: boolean }
  | { readonly op: 'tlbsync' }
  /** A user access of `va`; `reg` gets the physical page reached, 0 on a fault. */
  | { readonly op: 'access'; readonly reg: string; readonly va: string }
  /** `via`: see `IpiVia`; `fence`: MFENCE; LFENCE first (the kernel's weak_wrmsr_fence). */
  | { readonly op: 'ipi'; readonly target: number; readonly wait: boolean; readonly via: 'lock' | 'mmio' | 'wrmsr'; readonly fence: boolean }
  | { readonly op: 'irq'; readonly on: boolean }
  | { readonly op: 'freept'; readonly mm: string; readonly va: string }
  | { readonly op: 'reusept'; readonly mm: string; readonly va: string; readonly page: string | null }
);

/** Leaf-entry flags a mapping may start without: `RO` (R/W=0), `CLEAN` (D=0), `OLD` (A=0, D=0). */
export type PteFlag = 'RO' | 'CLEAN' | 'OLD';
export const PTE_FLAGS: readonly PteFlag[] = ['RO', 'CLEAN', 'OLD'];

/** Left side of a condition atom. */
export type Lhs =
  | { readonly k: 'reg'; readonly tid: number; readonly r: string }
  | { readonly k: 'loc'; readonly name: string }
  | { readonly k: 'violation' };

/** Right side: a number, or a name (a page, or an invariant id for `violation`). */
export type Rhs = { readonly k: 'num'; readonly v: number } | { readonly k: 'name'; readonly id: string };

export type Prop =
  | { readonly k: 'atom'; readonly lhs: Lhs; readonly rhs: Rhs; readonly line: number }
  | { readonly k: 'and' | 'or'; readonly a: Prop; readonly b: Prop }
  | { readonly k: 'not'; readonly a: Prop }
  | { readonly k: 'const'; readonly v: boolean };

export interface Condition {
  readonly quant: 'exists' | '~exists' | 'forall';
  readonly prop: Prop;
}

/** One init item: `x=0`, `0:EAX=1`, `A:u=p1`, `kernel:g=p2`, `0:CR3=A`, `0:TLB=u`... */
export type InitItem = { readonly line: number } & (
  | { readonly k: 'loc'; readonly name: string; readonly v: number }
  | { readonly k: 'reg'; readonly tid: number; readonly r: string; readonly v: number }
  | { readonly k: 'map'; readonly mm: string; readonly va: string; readonly page: string | null; readonly flags: readonly PteFlag[] }
  | { readonly k: 'cpu'; readonly tid: number; readonly what: 'CR3' | 'PCID' | 'TLB' | 'PSC'; readonly arg: string | number }
);

export interface Column {
  /** `P<n>`: thread n's program; `H<n>`: the IPI handler that runs on thread n's CPU. */
  readonly kind: 'P' | 'H';
  readonly tid: number;
  readonly code: readonly Instr[];
}

export interface LitmusTest {
  readonly arch: string;
  readonly name: string;
  readonly doc?: string;
  /** `Key=value` lines between the header and the init block (Expect, Source, Features...). */
  readonly meta: ReadonlyMap<string, string>;
  /** Line of each metadata key, for error messages. */
  readonly metaLine: ReadonlyMap<string, number>;
  readonly init: readonly InitItem[];
  readonly columns: readonly Column[];
  /** Extra locations to show in the final states (`locations [x; 0:EAX;]`). */
  readonly show: readonly Lhs[];
  /** Line of the `locations` list, if any. */
  readonly showLine?: number;
  readonly cond: Condition;
}

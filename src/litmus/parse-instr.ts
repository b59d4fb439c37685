/**
 * One cell of a litmus thread column: an x86 instruction in herd7's syntax, or one of the
 * translation extension's (README "Translation litmus tests"). The cell's tokens end with an
 * `eof` token carrying the cell's line.
 */
import { type Instr, type Operand, type PteFlag, PTE_FLAGS, type Src } from './ast.ts';
import { Cursor, describeTok, LitmusSyntaxError, parseNum, type Tok } from './tokens.ts';

const REG = /^(E?(AX|BX|CX|DX|SI|DI|BP)|R(AX|BX|CX|DX|SI|DI|BP)|R(8|9|1[0-5])D?)$/i;

export const isRegister = (s: string): boolean => REG.test(s);

function operand(c: Cursor): Operand {
  const t = c.peek();
  if (c.accept('[')) {
    const loc = c.id('a location name');
    c.sym(']');
    return { k: 'mem', loc: loc.text };
  }
  if (c.accept('$')) return { k: 'imm', v: c.num('an immediate after $') };
  if (t.kind === 'num') return { k: 'num', v: parseNum(c.next().text) };
  if (t.kind === 'id') {
    c.next();
    if (c.accept(':')) return { k: 'ref', mm: t.text, va: c.id('a virtual address name after mm:').text };
    return isRegister(t.text) ? { k: 'reg', r: t.text.toUpperCase() } : { k: 'name', id: t.text };
  }
  return c.fail('an operand');
}

function operands(c: Cursor): { ops: Operand[]; toks: Tok[] } {
  const ops: Operand[] = [];
  const toks: Tok[] = [];
  if (c.peek().kind === 'eof') return { ops, toks };
  for (;;) {
    toks.push(c.peek());
    ops.push(operand(c));
    if (!c.accept(',')) break;
  }
  if (c.peek().kind !== 'eof') c.fail("',' or the end of the instruction");
  return { ops, toks };
}

/** Parse one cell; null for an empty cell. */
export function parseInstr(toks: readonly Tok[]): Instr | null {
  const c = new Cursor(toks);
  if (c.peek().kind === 'eof') return null;
  const first = c.id('an instruction');
  let mn = first.text.toUpperCase();
  const line = first.line;
  let lock = false;
  if (mn === 'LOCK') {
    lock = true;
    mn = c.id('an instruction after LOCK').text.toUpperCase();
  }
  const { ops, toks: opToks } = operands(c);
  const bad = (i: number, what: string): never => {
    const t = opToks[i] ?? first;
    throw new LitmusSyntaxError(t.line, `${mn}: expected ${what}, found ${describeTok(t)}`);
  };
  const arity = (n: number): void => {
    if (ops.length !== n) throw new LitmusSyntaxError(line, `${mn} takes ${n} operand(s), found ${ops.length} at token '${first.text}'`);
  };
  const src = (i: number): Src => {
    const o = ops[i];
    if (o?.k === 'imm' || o?.k === 'reg') return o;
    return bad(i, 'an immediate $n or a register');
  };
  const reg = (i: number): string => {
    const o = ops[i];
    return o?.k === 'reg' ? o.r : bad(i, 'a register');
  };
  const mem = (i: number): string => {
    const o = ops[i];
    return o?.k === 'mem' ? o.loc : bad(i, 'a memory operand [x]');
  };
  const name = (i: number, what: string): string => {
    const o = ops[i];
    return o?.k === 'name' ? o.id : bad(i, what);
  };
  const ref = (i: number): { mm: string; va: string } => {
    const o = ops[i];
    return o?.k === 'ref' ? { mm: o.mm, va: o.va } : bad(i, 'mm:va');
  };
  const num = (i: number, what: string): number => {
    const o = ops[i];
    return o?.k === 'num' ? o.v : bad(i, what);
  };
  const page = (i: number): string | null => {
    const o = ops[i];
    if (o?.k === 'num' && o.v === 0) return null;
    return name(i, 'a page name or 0');
  };
  if (lock && !['ADD', 'INC', 'XADD', 'XCHG'].includes(mn)) throw new LitmusSyntaxError(line, `LOCK cannot prefix token '${mn}'`);
  /** Names from operand `from` on, upper-cased. */
  const words = (from: number, what: string): string[] => ops.slice(from).map((_, i) => name(from + i, what).toUpperCase());
  switch (mn) {
    case 'MOV': {
      const [a, b] = ops;
      if (a?.k === 'name' && a.id.toUpperCase() === 'CR3') return cr3(line, ops, bad);
      if (a?.k === 'name' && a.id.toUpperCase() === 'CR4') return cr4(line, ops, bad);
      arity(2);
      if (a?.k === 'mem') return { line, op: 'store', loc: a.loc, src: src(1) };
      if (a?.k === 'reg' && b?.k === 'mem') return { line, op: 'load', reg: a.r, loc: b.loc };
      if (a?.k === 'reg') return { line, op: 'movr', reg: a.r, src: src(1) };
      return bad(0, 'a register, [x] or CR3');
    }
    case 'ADD':
    case 'INC': {
      arity(mn === 'INC' ? 1 : 2);
      const delta: Src = mn === 'INC' ? { k: 'imm', v: 1 } : src(1);
      if (ops[0]?.k === 'mem') {
        if (!lock) throw new LitmusSyntaxError(line, `${mn} on memory needs LOCK (a plain read-modify-write is not modelled): token '${first.text}'`);
        return { line, op: 'xadd', loc: mem(0), src: delta };
      }
      return { line, op: 'addr', reg: reg(0), src: delta };
    }
    case 'XADD':
      arity(2);
      if (!lock) throw new LitmusSyntaxError(line, "XADD needs LOCK: token 'XADD'");
      return { line, op: 'xadd', loc: mem(0), src: { k: 'reg', r: reg(1) }, ret: reg(1) };
    case 'XCHG':
      arity(2);
      if (ops[0]?.k === 'mem') return { line, op: 'xchg', loc: mem(0), reg: reg(1) };
      return { line, op: 'xchg', loc: mem(1), reg: reg(0) };
    case 'MFENCE':
      arity(0);
      return { line, op: 'mfence' };
    case 'SETPTE': {
      if (ops.length < 2) arity(2);
      const flags = words(2, `a flag (${PTE_FLAGS.join(', ')})`).map((w, i) => pteFlag(w, () => bad(2 + i, `a flag (${PTE_FLAGS.join(', ')})`)));
      return { line, op: 'setpte', ...ref(0), page: page(1), flags };
    }
    case 'CLRPMD':
      arity(1);
      return { line, op: 'clrpmd', ...ref(0) };
    case 'SETPMD':
      arity(2);
      return { line, op: 'setpmd', ...ref(0), to: name(1, 'a virtual address name (whose leaf table to point at)') };
    case 'LOAD':
      arity(2);
      return { line, op: 'vload', reg: reg(0), va: name(1, 'a virtual address name') };
    case 'STORE':
      arity(2);
      return { line, op: 'vstore', va: name(0, 'a virtual address name'), src: src(1) };
    case 'INVLPG':
      arity(1);
      return { line, op: 'invlpg', va: name(0, 'a virtual address name') };
    case 'INVPCID': {
      if (ops.length < 1 || ops.length > 3) throw new LitmusSyntaxError(line, `INVPCID takes type[,pcid[,va]]: token '${first.text}'`);
      const type = num(0, 'a type 0..3');
      if (type !== 0 && type !== 1 && type !== 2 && type !== 3) return bad(0, 'a type 0..3');
      const pcid = ops.length > 1 ? num(1, 'a PCID') : 0;
      const va = ops.length > 2 ? name(2, 'a virtual address name') : null;
      if (type === 0 && va === null) throw new LitmusSyntaxError(line, `INVPCID type 0 needs a va: token '${first.text}'`);
      return { line, op: 'invpcid', type, pcid, va };
    }
    case 'INVLPGB': {
      // INVLPGB va|ALL[,PCID,n][,ASID,n][,GLOBAL][,FINAL]
      if (ops.length < 1) throw new LitmusSyntaxError(line, `INVLPGB takes va|ALL[,PCID,n][,ASID,n][,GLOBAL][,FINAL]: token '${first.text}'`);
      const first0 = name(0, 'a virtual address name or ALL');
      const va = first0.toUpperCase() === 'ALL' ? null : first0;
      let pcid: number | null = null;
      let asid: number | null = null;
      let global = false;
      let finalOnly = false;
      const seen = new Set<string>();
      for (let i = 1; i < ops.length; i++) {
        const w = name(i, 'PCID, ASID, GLOBAL or FINAL').toUpperCase();
        if (seen.has(w)) bad(i, 'PCID, ASID, GLOBAL or FINAL, each once');
        seen.add(w);
        if (w === 'PCID' || w === 'ASID') {
          const v = num(++i, `a ${w} number`);
          if (w === 'PCID') pcid = v;
          else asid = v;
        } else if (w === 'GLOBAL') global = true;
        else if (w === 'FINAL') finalOnly = true;
        else bad(i, 'PCID, ASID, GLOBAL or FINAL');
      }
      return { line, op: 'invlpgb', va, pcid, asid, global, finalOnly };
    }
    case 'TLBSYNC':
      arity(0);
      return { line, op: 'tlbsync' };
    case 'ACCESS':
      arity(2);
      return { line, op: 'access', reg: reg(0), va: name(1, 'a virtual address name') };
    case 'IPI': {
      if (ops.length < 1) throw new LitmusSyntaxError(line, `IPI takes a thread and options WAIT, XAPIC|X2APIC, FENCE: token '${first.text}'`);
      const target = num(0, 'a thread number');
      const opts = words(1, 'WAIT, XAPIC, X2APIC or FENCE');
      opts.forEach((w, i) => {
        if (!['WAIT', 'XAPIC', 'X2APIC', 'FENCE'].includes(w) || opts.indexOf(w) !== i) bad(1 + i, 'WAIT, XAPIC, X2APIC or FENCE, each once');
      });
      if (opts.includes('XAPIC') && opts.includes('X2APIC')) bad(opts.indexOf('X2APIC') + 1, 'one of XAPIC and X2APIC');
      if (opts.includes('FENCE') && !opts.includes('X2APIC')) bad(opts.indexOf('FENCE') + 1, 'FENCE only with X2APIC (weak_wrmsr_fence)');
      const via = opts.includes('XAPIC') ? 'mmio' : opts.includes('X2APIC') ? 'wrmsr' : 'lock';
      return { line, op: 'ipi', target, wait: opts.includes('WAIT'), via, fence: opts.includes('FENCE') };
    }
    case 'CLI':
    case 'STI':
      arity(0);
      return { line, op: 'irq', on: mn === 'STI' };
    case 'FREEPT':
      arity(1);
      return { line, op: 'freept', ...ref(0) };
    case 'REUSEPT':
      if (ops.length !== 1 && ops.length !== 2) arity(2);
      return { line, op: 'reusept', ...ref(0), page: ops.length === 2 ? page(1) : null };
    default:
      throw new LitmusSyntaxError(line, `unknown instruction: token '${first.text}'`);
  }
}

export function pteFlag(w: string, fail: () => never): PteFlag {
  const f = PTE_FLAGS.find((x) => x === w.toUpperCase());
  return f ?? fail();
}

/** `MOV CR4,0` or `MOV CR4,PGE[,PCIDE]`: the listed bits set, the others clear. */
function cr4(line: number, ops: readonly Operand[], bad: (i: number, what: string) => never): Instr {
  if (ops.length < 2 || ops.length > 3) return bad(Math.min(ops.length, 3), 'MOV CR4,0 or MOV CR4,PGE[,PCIDE]');
  const bits = new Set<string>();
  for (let i = 1; i < ops.length; i++) {
    const o = ops[i]!;
    if (o.k === 'num' && o.v === 0 && ops.length === 2) continue;
    if (o.k !== 'name' || !['PGE', 'PCIDE'].includes(o.id.toUpperCase()) || bits.has(o.id.toUpperCase())) return bad(i, 'PGE or PCIDE (or 0)');
    bits.add(o.id.toUpperCase());
  }
  return { line, op: 'cr4', pge: bits.has('PGE'), pcide: bits.has('PCIDE') };
}

/** `MOV CR3,A[,pcid[,NOFLUSH]]`. */
function cr3(line: number, ops: readonly Operand[], bad: (i: number, what: string) => never): Instr {
  if (ops.length < 2 || ops.length > 4) return bad(Math.min(ops.length, 4), 'MOV CR3,mm[,pcid[,NOFLUSH]]');
  const mm = ops[1];
  if (mm?.k !== 'name') return bad(1, 'an mm name');
  const p = ops[2];
  if (p !== undefined && p.k !== 'num') return bad(2, 'a PCID number');
  const f = ops[3];
  if (f !== undefined && !(f.k === 'name' && f.id.toUpperCase() === 'NOFLUSH')) return bad(3, 'NOFLUSH');
  return { line, op: 'cr3', mm: mm.id, pcid: p?.v ?? 0, noflush: f !== undefined };
}

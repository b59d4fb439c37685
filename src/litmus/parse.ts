/**
 * Parser for herd7 `X86` litmus files and tlbcheck's translation extension:
 *
 *   X86 NAME                      header
 *   "doc"                         optional quoted line
 *   Key=value                     metadata lines (Expect=, Source=, Rule=, Features=...)
 *   { x=0; 0:EAX=0; A:u=p1; 0:CR3=A; }
 *    P0          | P1          ;  thread columns (H1: IPI handler on thread 1's CPU)
 *    MOV [x],$1  | MOV [y],$1  ;
 *   locations [x;]                optional
 *   exists (0:EAX=0 /\ 1:EAX=0)   final condition
 *
 * A hand-written tokenizer (tokens.ts) and recursive descent; every error is a
 * `LitmusSyntaxError` with the line and the offending token.
 */
import { type Column, type InitItem, type Instr, type Lhs, type LitmusTest, type PteFlag, PTE_FLAGS } from './ast.ts';
import { parseCondition, parseLhs } from './parse-cond.ts';
import { parseInstr, pteFlag } from './parse-instr.ts';
import { blankComments, Cursor, LitmusSyntaxError, type Tok, tokenize } from './tokens.ts';

export { LitmusSyntaxError } from './tokens.ts';

const CPU_ITEMS = ['CR3', 'PCID', 'TLB', 'PSC'] as const;

export function parseLitmus(src: string): LitmusTest {
  const lines = blankComments(src).split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const head = /^\s*(\S+)(?:\s+(\S+))?\s*$/.exec(lines[i] ?? '');
  if (!head || head[1]!.toUpperCase() !== 'X86' || head[2] === undefined) {
    const tok = (lines[i] ?? '').trim().split(/\s+/)[0] ?? '';
    throw new LitmusSyntaxError(i + 1, `expected the header 'X86 NAME', found ${tok ? `token '${tok}'` : 'end of file'}`);
  }
  const arch = head[1]!;
  const name = head[2];
  let doc: string | undefined;
  const meta = new Map<string, string>();
  const metaLine = new Map<string, number>();
  for (i++; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    if (l.startsWith('{')) break;
    const q = /^"(.*)"$/.exec(l);
    const kv = /^([A-Za-z][\w-]*)\s*=\s*(.*)$/.exec(l);
    if (q && doc === undefined) doc = q[1]!;
    else if (kv) {
      meta.set(kv[1]!, kv[2]!.trim());
      metaLine.set(kv[1]!, i + 1);
    }
    else throw new LitmusSyntaxError(i + 1, `expected a quoted line, Key=value or '{', found token '${l.split(/\s+/)[0]}'`);
  }
  if (i >= lines.length) throw new LitmusSyntaxError(lines.length, "expected the init block '{', found end of file");
  const c = new Cursor(tokenize(lines.slice(i).join('\n'), i + 1));
  const init = parseInit(c);
  const columns = parseTable(c);
  const show: Lhs[] = [];
  let showLine: number | undefined;
  if (c.isId('locations')) {
    showLine = c.next().line;
    c.sym('[');
    while (!c.accept(']')) {
      show.push(parseLhs(c));
      if (!c.isSym(']')) c.sym(';');
    }
  }
  const cond = parseCondition(c);
  return { arch, name, ...(doc === undefined ? {} : { doc }), meta, metaLine, init, columns, show, ...(showLine === undefined ? {} : { showLine }), cond };
}

function parseInit(c: Cursor): InitItem[] {
  c.sym('{');
  const items: InitItem[] = [];
  while (!c.accept('}')) {
    if (c.accept(';')) continue;
    const t = c.peek();
    const line = t.line;
    if (t.kind === 'num' && c.isSym(':', 1)) {
      const tid = c.num();
      c.next();
      const what = c.id('a register or CR3/PCID/TLB/PSC').text.toUpperCase();
      c.sym('=');
      const cpuItem = CPU_ITEMS.find((w) => w === what);
      if (cpuItem) {
        const v = c.peek();
        const arg = v.kind === 'num' ? c.num() : c.id('an mm, PCID or va name').text;
        items.push({ line, k: 'cpu', tid, what: cpuItem, arg });
      } else {
        items.push({ line, k: 'reg', tid, r: what, v: c.num('an initial register value') });
      }
    } else if (t.kind === 'id' && c.isSym(':', 1)) {
      const mm = c.next().text;
      c.next();
      const va = c.id('a virtual address name').text;
      c.sym('=');
      const v = c.peek();
      if (v.kind === 'num' && v.text === '0') c.next();
      const page = v.kind === 'num' ? (v.text === '0' ? null : c.fail('a page name or 0')) : c.id('a page name or 0').text;
      const flags: PteFlag[] = [];
      while (c.accept(',')) {
        const f = c.id(`a flag (${PTE_FLAGS.join(', ')})`);
        flags.push(pteFlag(f.text, () => c.fail(`a flag (${PTE_FLAGS.join(', ')})`, f)));
      }
      if (page === null && flags.length > 0) c.fail("';' (an unmapped va has no flags)");
      items.push({ line, k: 'map', mm, va, page, flags });
    } else if (t.kind === 'id') {
      c.next();
      c.sym('=');
      items.push({ line, k: 'loc', name: t.text, v: c.num('an initial value') });
    } else {
      c.fail("an init item ('x=0', '0:EAX=0', 'A:u=p1', '0:CR3=A') or '}'");
    }
    if (!c.isSym('}')) c.sym(';');
  }
  return items;
}

const atTableEnd = (c: Cursor): boolean =>
  c.peek().kind === 'eof' || c.isSym('~') || c.isId('exists') || c.isId('forall') || c.isId('locations');

function parseTable(c: Cursor): Column[] {
  const heads: { kind: 'P' | 'H'; tid: number; code: Instr[]; line: number }[] = [];
  for (;;) {
    const t = c.id("a thread column 'P0' (or a handler column 'H1')");
    const m = /^([PH])(\d+)$/.exec(t.text);
    if (!m) c.fail("a thread column 'P0' (or a handler column 'H1')", t);
    const kind = m[1] === 'P' ? 'P' : 'H';
    const tid = Number(m[2]);
    if (heads.some((h) => h.kind === kind && h.tid === tid)) c.fail('a new column name', t);
    heads.push({ kind, tid, code: [], line: t.line });
    if (c.accept(';')) break;
    c.sym('|');
  }
  const threads = heads.filter((h) => h.kind === 'P');
  threads.forEach((h, i) => {
    if (h.tid !== i) throw new LitmusSyntaxError(h.line, `thread columns must be P0..P${threads.length - 1} in order: token 'P${h.tid}'`);
  });
  for (const h of heads) {
    if (h.kind === 'H' && h.tid >= threads.length) throw new LitmusSyntaxError(h.line, `handler column for a missing thread: token 'H${h.tid}'`);
  }
  while (!atTableEnd(c)) {
    let col = 0;
    const first = c.peek();
    for (;;) {
      const cell: Tok[] = [];
      const line = c.peek().line;
      while (!c.isSym('|') && !c.isSym(';') && c.peek().kind !== 'eof') cell.push(c.next());
      const end = c.peek();
      if (end.kind === 'eof') {
        throw new LitmusSyntaxError(first.line, `a row of thread code or a final condition expected, found token '${first.text}' (no ';' ends this row)`);
      }
      const h = heads[col];
      if (!h) throw new LitmusSyntaxError(end.line, `more cells than columns: token '${cell[0]?.text ?? end.text}'`);
      const ins = parseInstr([...cell, { kind: 'eof', text: '', line: cell[0]?.line ?? line }]);
      if (ins) h.code.push(ins);
      col++;
      if (c.next().text === ';') break;
    }
  }
  return heads.map(({ kind, tid, code }) => ({ kind, tid, code }));
}

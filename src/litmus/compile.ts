/**
 * A parsed litmus test as a harness spec: names of locations, registers, mms, virtual
 * addresses and pages; the world (page tables laid out by `WorldBuilder`, each va in its own
 * upper-table slot so every va has its own leaf table and paging-structure-cache entry); each
 * CPU's boot state; and the thread programs. Names are checked here, with the line that used
 * them.
 */
import type { CpuStart } from '../kernel/variant.ts';
import { ALL_FEATURE_NAMES, ENTRIES, featuresOf, type Features, NO_FEATURES, NOT_ACCESSED, NOT_DIRTY, NOT_WRITABLE, PAGE_SIZE, entryLoc } from '../machine/types.ts';
import { WorldBuilder } from '../scenario/world.ts';
import type { MmInfo } from '../kernel/layout.ts';
import type { Instr, Lhs, LitmusTest, Prop } from './ast.ts';
import { csdName, execCode, flagBits, type TransWorld } from './exec.ts';
import type { LitmusSpec } from './harness.ts';
import { LitmusSyntaxError } from './tokens.ts';

export interface Compiled {
  readonly spec: LitmusSpec;
  /** pfn of each named page. */
  readonly pages: ReadonlyMap<string, number>;
  /** Registers (`0:EAX`) that receive a physical page (targets of ACCESS): shown by page name. */
  readonly pageRegs: ReadonlySet<string>;
  /** Whether the test uses the translation extension. */
  readonly translation: boolean;
}

const KERNEL = 'kernel';

/** Everything named by a test, in order of first appearance. */
class Names {
  readonly locs = new Set<string>();
  readonly regs = new Set<string>();
  readonly mms = new Set<string>();
  readonly vas = new Set<string>();
  readonly pages = new Set<string>();
  translation = false;

  lhs(l: Lhs): void {
    if (l.k === 'reg') this.regs.add(l.r);
    else if (l.k === 'loc') this.locs.add(l.name);
  }

  prop(p: Prop): void {
    if (p.k === 'atom') this.lhs(p.lhs);
    else if (p.k === 'and' || p.k === 'or') {
      this.prop(p.a);
      this.prop(p.b);
    } else if (p.k === 'not') this.prop(p.a);
  }

  ref(mm: string, va: string): void {
    if (mm !== KERNEL) this.mms.add(mm);
    this.vas.add(va);
    this.translation = true;
  }

  instr(i: Instr): void {
    if (i.op === 'setpmd') {
      this.ref(i.mm, i.to);
    }
    switch (i.op) {
      case 'store':
      case 'load':
      case 'xchg':
      case 'xadd':
        this.locs.add(i.loc);
        break;
      case 'movr':
      case 'addr':
      case 'mfence':
        break;
      default:
        this.translation = true;
    }
    if ('reg' in i) this.regs.add(i.reg);
    if ('src' in i && i.src.k === 'reg') this.regs.add(i.src.r);
    if ('mm' in i) {
      if (i.op === 'cr3') this.mms.add(i.mm);
      else this.ref(i.mm, i.va);
    }
    if ('va' in i && typeof i.va === 'string') this.vas.add(i.va);
    if ('page' in i && i.page !== null) this.pages.add(i.page);
  }
}

function features(t: LitmusTest): Features {
  const list = t.meta.get('Features');
  if (list === undefined) return NO_FEATURES;
  const f: Record<string, boolean | undefined> = { ...NO_FEATURES };
  for (const w of list.split(/[\s,]+/).filter((x) => x !== '')) {
    const name = ALL_FEATURE_NAMES.find((n) => n === w.toLowerCase());
    if (!name) throw new LitmusSyntaxError(t.metaLine.get('Features') ?? 1, `unknown feature in Features=: token '${w}' (known: ${ALL_FEATURE_NAMES.join(', ')})`);
    f[name] = true;
  }
  return featuresOf(f);
}

export function compile(t: LitmusTest): Compiled {
  const threads = t.columns.filter((c) => c.kind === 'P');
  const handlers = new Map(t.columns.filter((c) => c.kind === 'H').map((c) => [c.tid, c.code]));
  const n = new Names();
  const boot = new Map<number, { mm?: string; pcid: number; tlb: string[]; psc: string[]; line: number }>();
  const bootOf = (tid: number, line: number) => {
    if (tid >= threads.length) throw new LitmusSyntaxError(line, `no thread ${tid}: token '${tid}:'`);
    const b = boot.get(tid) ?? { pcid: 0, tlb: [], psc: [], line };
    boot.set(tid, b);
    return b;
  };
  const init: Record<string, number> = {};
  const kernelMaps: { va: string; page: string; flags: number }[] = [];
  const userMaps: { mm: string; va: string; page: string | null; flags: number }[] = [];
  for (const it of t.init) {
    if (it.k === 'loc') {
      n.locs.add(it.name);
      init[it.name] = it.v;
    } else if (it.k === 'reg') {
      if (it.tid >= threads.length) throw new LitmusSyntaxError(it.line, `no thread ${it.tid}: token '${it.tid}:${it.r}'`);
      n.regs.add(it.r);
      init[`${it.tid}:${it.r}`] = it.v;
    } else if (it.k === 'map') {
      n.ref(it.mm, it.va);
      if (it.page !== null) n.pages.add(it.page);
      if (it.mm === KERNEL) {
        if (it.page === null) throw new LitmusSyntaxError(it.line, `a kernel mapping needs a page: token '${it.va}'`);
        kernelMaps.push({ va: it.va, page: it.page, flags: flagBits(it.flags) });
      } else userMaps.push({ mm: it.mm, va: it.va, page: it.page, flags: flagBits(it.flags) });
    } else {
      n.translation = true;
      const b = bootOf(it.tid, it.line);
      const arg = String(it.arg);
      if (it.what === 'CR3') {
        if (arg === KERNEL) throw new LitmusSyntaxError(it.line, "CR3 needs a user mm: token 'kernel'");
        b.mm = arg;
        n.mms.add(arg);
      } else if (it.what === 'PCID') {
        if (typeof it.arg !== 'number') throw new LitmusSyntaxError(it.line, `PCID needs a number: token '${arg}'`);
        b.pcid = it.arg;
      } else {
        (it.what === 'TLB' ? b.tlb : b.psc).push(arg);
        n.vas.add(arg);
      }
    }
  }
  for (const col of t.columns) for (const i of col.code) n.instr(i);
  for (const l of t.show) n.lhs(l);
  n.prop(t.cond.prop);
  // Observed names that are not plain locations: a page's data word (`p1`, written through a
  // translation) and a leaf-entry flag (`A:u.D`). Neither is a location of its own.
  const pageData = new Map<string, number>();
  const pteFlags = new Map<string, { mm: string; va: string; bit: number }>();
  for (const name of [...n.locs]) {
    const f = /^([^:]+):(.+)\.([ADW])$/.exec(name);
    if (f) {
      n.locs.delete(name);
      if (f[1] !== KERNEL && !n.mms.has(f[1]!)) throw new LitmusSyntaxError(1, `unknown mm in a flag name: token '${name}'`);
      n.ref(f[1]!, f[2]!);
      pteFlags.set(name, { mm: f[1]!, va: f[2]!, bit: f[3] === 'A' ? NOT_ACCESSED : f[3] === 'D' ? NOT_DIRTY : NOT_WRITABLE });
    } else if (n.pages.has(name)) {
      n.locs.delete(name);
      if (init[name] !== undefined) pageData.set(name, init[name]!);
      delete init[name];
    }
  }
  checkThreads(t.cond.prop, threads.length);
  for (const l of t.show) {
    if (l.k === 'reg' && l.tid >= threads.length) throw new LitmusSyntaxError(t.showLine ?? 1, `no thread ${l.tid}: token '${l.tid}:${l.r}'`);
  }
  const feats = features(t);
  const vaNames = [...n.vas];
  if (vaNames.length > ENTRIES) throw new LitmusSyntaxError(1, `at most ${ENTRIES} virtual addresses: token '${vaNames[ENTRIES]}'`);
  const vaOf = new Map(vaNames.map((v, i) => [v, i * ENTRIES * PAGE_SIZE + PAGE_SIZE]));
  const kernelVas = new Set(kernelMaps.map((m) => m.va));
  for (const col of t.columns) for (const i of col.code) check(i, threads.length, handlers, kernelVas, n.mms, col.tid);
  for (const [tid, b] of boot) {
    if (b.pcid !== 0 && !feats.pcid) throw new LitmusSyntaxError(b.line, `PCID ${b.pcid} needs Features=pcid: token '${tid}:PCID'`);
    if (b.mm === undefined && (b.tlb.length > 0 || b.psc.length > 0)) throw new LitmusSyntaxError(b.line, `cached vas need a CR3: token '${tid}:'`);
  }

  // The world: data pages, then kernel mappings (shared by every mm), then the mms. Every
  // table entry a test names is located here, so programs only look locations up.
  const refs = [
    ...userMaps,
    ...[...pteFlags.values()].filter((f) => f.mm !== KERNEL),
    ...t.columns.flatMap((c) => c.code.flatMap((i) => (i.op === 'setpmd' ? [{ mm: i.mm, va: i.to }] : []))),
    ...t.columns.flatMap((c) => c.code.flatMap((i) => ('mm' in i && i.op !== 'cr3' && i.mm !== KERNEL ? [{ mm: i.mm, va: i.va }] : []))),
    ...[...boot.values()].flatMap((b) => (b.mm === undefined ? [] : b.psc.map((va) => ({ mm: b.mm!, va })))),
  ];
  const pages = new Map<string, number>();
  const pgds = new Map<string, number>();
  const ptes = new Map<string, number>();
  const pmds = new Map<string, number>();
  const build = (w: WorldBuilder): CpuStart[] => {
    for (const p of n.pages) pages.set(p, w.dataPage());
    for (const m of kernelMaps) ptes.set(`${KERNEL}:${m.va}`, w.mapKernel(vaOf.get(m.va)!, pages.get(m.page)!, true, m.flags));
    const mms = new Map<string, MmInfo>();
    for (const m of n.mms) mms.set(m, w.addMm(m));
    for (const m of userMaps) if (m.page !== null) w.mapUser(mms.get(m.mm)!, vaOf.get(m.va)!, pages.get(m.page)!, m.flags);
    for (const r of refs) {
      ptes.set(`${r.mm}:${r.va}`, w.pteLoc(mms.get(r.mm)!, vaOf.get(r.va)!));
      pmds.set(`${r.mm}:${r.va}`, w.pmdLoc(mms.get(r.mm)!, vaOf.get(r.va)!));
    }
    for (const [m, info] of mms) pgds.set(m, info.pgd);
    return threads.map((th): CpuStart => {
      const b = boot.get(th.tid);
      if (b?.mm === undefined) return { mode: 'idle', mm: 0, cached: [] };
      return { mode: 'user', mm: mms.get(b.mm)!.id, cached: b.tlb.map((v) => vaOf.get(v)!) };
    });
  };
  build(new WorldBuilder()); // the layout is deterministic: resolve page numbers now
  const get = (m: ReadonlyMap<string, number>, k: string): number => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`[tlbcheck bug] litmus ${t.name}: nothing located for ${k}`);
    return v;
  };
  const tw: TransWorld = {
    pfn: (p) => get(pages, p),
    va: (v) => get(vaOf, v),
    pgd: (m) => get(pgds, m),
    pteLoc: (m, v) => get(ptes, `${m}:${v}`),
    pmdLoc: (m, v) => get(pmds, `${m}:${v}`),
    leafPfn: (m, v) => Math.floor(get(ptes, `${m}:${v}`) / ENTRIES),
    handler: (tid) => handlers.get(tid) ?? [],
  };
  const csds = t.columns.flatMap((c) => c.code.flatMap((i) => (i.op === 'ipi' ? [csdName(c.tid, i.target)] : [])));
  const spec: LitmusSpec = {
    name: t.name,
    cpus: threads.length,
    locations: [...new Set([...n.locs, ...csds])],
    registers: [...n.regs],
    init,
    features: feats,
    programs: threads.map((th) => (env) => execCode(env, th.code, tw)),
    ...(pageData.size + pteFlags.size > 0
      ? {
          observe: (name: string) => {
            const p = pages.get(name);
            if (p !== undefined) return { loc: entryLoc(p, 0) };
            const f = pteFlags.get(name);
            if (!f) return undefined;
            return { loc: tw.pteLoc(f.mm, f.va), bit: f.bit };
          },
        }
      : {}),
    ...(n.translation
      ? {
          vas: [...vaOf.values()],
          pages: build,
          boot: (s, cpu, start) => {
            const b = boot.get(cpu);
            s.setIrq(cpu, handlers.has(cpu));
            for (const [p, v] of pageData) s.poke(entryLoc(pages.get(p)!, 0), v);
            if (b?.mm === undefined) return;
            const root = s.L.mm(start.mm).pgd;
            s.setCr3(cpu, root, b.pcid);
            for (const v of b.tlb) s.prefill(cpu, root, b.pcid, tw.va(v));
            for (const v of b.psc) {
              // Cache the upper entry only: walk with the PTE cleared, so no TLB entry fills.
              const pte = tw.pteLoc(b.mm, v);
              const saved = s.peek(pte);
              s.poke(pte, 0);
              s.prefill(cpu, root, b.pcid, tw.va(v));
              s.poke(pte, saved);
            }
          },
        }
      : {}),
  };
  const pageRegs = new Set(t.columns.flatMap((c) => c.code.flatMap((i) => (i.op === 'access' ? [`${c.tid}:${i.reg}`] : []))));
  return { spec, pages, pageRegs, translation: n.translation };
}

/** Names an instruction uses must exist where it runs. */
function check(
  i: Instr,
  threads: number,
  handlers: ReadonlyMap<number, unknown>,
  kernelVas: ReadonlySet<string>,
  mms: ReadonlySet<string>,
  tid: number,
): void {
  const fail = (what: string, tok: string): never => {
    throw new LitmusSyntaxError(i.line, `${what}: token '${tok}'`);
  };
  if (i.op === 'ipi') {
    if (i.target >= threads || !handlers.has(i.target)) fail(`IPI to thread ${i.target}, which has no handler column H${i.target}`, String(i.target));
    if (i.target === tid) fail('IPI to its own thread', String(i.target));
  }
  if ('mm' in i && i.mm === KERNEL && i.op !== 'cr3' && !kernelVas.has(i.va)) fail('kernel va not mapped in the init block', i.va);
  if (i.op === 'cr3' && (!mms.has(i.mm) || i.mm === KERNEL)) fail('MOV CR3 needs a user mm', i.mm);
  if (i.op === 'clrpmd' && i.mm === KERNEL) fail('CLRPMD of the shared kernel table', i.mm);
}

/** Registers in the condition must belong to a thread of the test. */
function checkThreads(p: Prop, threads: number): void {
  if (p.k === 'and' || p.k === 'or') {
    checkThreads(p.a, threads);
    checkThreads(p.b, threads);
  } else if (p.k === 'not') checkThreads(p.a, threads);
  else if (p.k === 'atom' && p.lhs.k === 'reg' && p.lhs.tid >= threads) {
    throw new LitmusSyntaxError(p.line, `no thread ${p.lhs.tid}: token '${p.lhs.tid}:${p.lhs.r}'`);
  }
}

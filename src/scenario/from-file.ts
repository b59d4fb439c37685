/**
 * A scenario from a `tlbcheck-scenario/1` file (file-schema.ts). The built-in scenarios are
 * such files under `scenarios/`; a user's file is read the same way. Every problem of a file
 * is one UserError line: unreadable, malformed JSON, a schema error (with its path), an unknown
 * mm or page name, a CPU no `run` entry covers, a PTE no table maps.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { type K, type Routine, access, call, irqDisable, irqEnable, reusePage, store, waitUntil } from '../kernel/fx.ts';
import { INIT_MM, NO_MM, type MmInfo } from '../kernel/layout.ts';
import type { CoreRoutines, CpuStart } from '../kernel/variant.ts';
import { exit_mm, freePgtables, set_pte_at } from '../kernel/common/sched.ts';
import { dup_mm, exec_mmap } from '../kernel/common/mm-life.ts';
import { collapse_pte_mapped_thp, huge_vmap_free_pte_page } from '../kernel/common/pgtable-free.ts';
import type { Val } from '../kc/ir.ts';
import { ALL_FEATURE_NAMES, ENTRIES, type FeatureName, type Loc, type Pfn, entryLoc, entryPfn, entryPresent, makeEntry } from '../machine/types.ts';
import { INVARIANTS } from '../invariants/index.ts';
import {
  type ArgVal,
  COND_RE,
  ON_RE,
  type Part,
  SCENARIO_SCHEMA_ID,
  type ScenarioFile,
  type StartSpec,
  type Step,
  scenarioFileSchema,
} from './file-schema.ts';
import { type LaterMm, type Program, type Scenario, type ScenarioExpect, type ScenarioParams, type TaskSpec, type World, WorldBuilder, inSegments } from './world.ts';
import type { MmRoutines } from '../kernel/common/sched.ts';

/** Read and validate a scenario file; `shown` is how errors name it. */
export function readScenarioFile(path: string, shown = path): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`scenario file not found: ${shown}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${shown}: malformed JSON (${(e as Error).message})`);
  }
  return scenarioFromJson(json, shown);
}

/** A scenario from parsed JSON (a file's, or one sealed in a counterexample). */
export function scenarioFromJson(json: unknown, shown: string): Scenario {
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== SCENARIO_SCHEMA_ID) {
    throw new UserError(`${shown}: not a scenario file (schema ${JSON.stringify(schema)}; this tlbcheck reads ${SCENARIO_SCHEMA_ID})`);
  }
  const parsed = scenarioFileSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const detail = i && i.code === 'invalid_union' ? unionDetail(i) : (i?.message ?? '?');
    throw new UserError(`${shown}: invalid scenario at ${i?.path.join('.') || '(root)'}: ${detail}`);
  }
  return scenarioOf(parsed.data, shown, json);
}

/** The most specific message of a union that matched no branch: the branch that got furthest. */
function unionDetail(i: { unionErrors?: readonly { issues: readonly { path: readonly (string | number)[]; message: string }[] }[] }): string {
  const all = (i.unionErrors ?? []).flatMap((e) => e.issues);
  const best = all.filter((x) => x.message !== 'Required' && !/^Unrecognized key/.test(x.message)).sort((a, b) => b.path.length - a.path.length)[0];
  return best ? `${best.message} (at ${best.path.join('.')})` : 'no form of this item matches (see the scenario format in the README)';
}

type Params = ScenarioParams;

function holds(cond: string | undefined, p: Params): boolean {
  if (cond === undefined) return true;
  const m = COND_RE.exec(cond)!;
  const v = m[1] === 'cpus' ? p.cpus : m[1] === 'mms' ? p.mms : p.ops;
  const n = Number(m[3]);
  if (v === undefined) return false;
  switch (m[2]) {
    case '>=':
      return v >= n;
    case '<=':
      return v <= n;
    case '==':
      return v === n;
    case '!=':
      return v !== n;
    case '>':
      return v > n;
    default:
      return v < n;
  }
}

const vaOf = (x: number | { va: number; if?: string | undefined }, p: Params): number | undefined =>
  typeof x === 'number' ? x : holds(x.if, p) ? x.va : undefined;
const vaList = (xs: readonly (number | { va: number; if?: string | undefined })[] | undefined, p: Params): number[] =>
  (xs ?? []).map((x) => vaOf(x, p)).filter((v): v is number => v !== undefined);

function matches(on: string, cpu: number, cpus: number): boolean {
  if (on === 'last') return cpu === cpus - 1;
  const m = ON_RE.exec(on)!;
  const lo = Number(m[1]);
  if (!on.includes('..')) return cpu === lo;
  return cpu >= lo && (m[2] === undefined || cpu <= Number(m[2]));
}

const stepsOf = (part: Part): readonly Step[] => (Array.isArray(part) ? part : [part]);

/** Static checks that need no parameters: every mm and page named is declared somewhere. */
function checkNames(f: ScenarioFile, shown: string): void {
  const mms = new Set<string>(['init_mm']);
  const pages = new Set<string>();
  /** mms a fork step allocates (not alive at boot). */
  const later = new Set<string>();
  for (const [i, s] of f.setup.entries()) {
    if ('mm' in s && (s.at !== undefined || s.later === true)) {
      if (s.at !== undefined && s.later === true) throw new UserError(`${shown}: setup[${i}]: give mm '${s.mm}' either "at" or "later", not both`);
      if (s.at !== undefined && (!mms.has(s.at) || later.has(s.at) || s.at === 'init_mm')) {
        throw new UserError(`${shown}: setup[${i}]: mm '${s.mm}' is at the address of '${s.at}', which must be an mm set up before it and alive at boot (not init_mm)`);
      }
      later.add(s.mm);
    }
    if ('mm' in s) mms.add(s.mm);
    if ('page' in s && !('map' in s) && !('kmap' in s)) pages.add(s.page);
  }
  const mm = (n: string | undefined, where: string, kthread = false) => {
    if (n === undefined || mms.has(n) || (kthread && n === 'kthread')) return;
    throw new UserError(`${shown}: ${where} names mm '${n}', which setup does not declare (declared: ${[...mms].join(', ')})`);
  };
  const page = (n: string | undefined, where: string) => {
    if (n === undefined || pages.has(n)) return;
    throw new UserError(`${shown}: ${where} names page '${n}', which setup does not declare (declared: ${[...pages].join(', ') || 'none'})`);
  };
  f.setup.forEach((s, i) => {
    if ('map' in s) (mm(s.map, `setup[${i}]`), page(s.page, `setup[${i}]`));
    if ('kmap' in s) page(s.page, `setup[${i}]`);
    if ('table' in s) mm(s.table, `setup[${i}]`);
    if ('userPgd' in s) mm(s.userPgd, `setup[${i}]`);
    if ('table' in s && later.has(s.table)) throw new UserError(`${shown}: setup[${i}]: mm '${s.table}' is allocated by fork; map its pages instead of making empty tables`);
    if ('userPgd' in s && later.has(s.userPgd)) throw new UserError(`${shown}: setup[${i}]: mm '${s.userPgd}' is allocated by fork, which has no PTI user pgd in the model`);
    if ('mmSide' in s) mm(s.mmSide, `setup[${i}]`);
  });
  const programs = [...f.run.map((r, i) => ({ at: `run[${i}] (${r.on})`, program: r.program })), ...(f.tasks ?? []).map((t, i) => ({ at: `tasks[${i}] (${t.name})`, program: t.program }))];
  (f.tasks ?? []).forEach((t, i) => {
    mm(t.mm, `tasks[${i}]`, true);
    if (later.has(t.mm)) throw new UserError(`${shown}: tasks[${i}] (${t.name}) runs mm '${t.mm}', which is not alive at boot (switch to it with context_switch after its fork)`);
  });
  f.run.forEach((r, i) => {
    const at = `run[${i}] (${r.on})`;
    mm(r.start.mm, `${at}.start`);
    for (const o of r.start.others ?? []) mm(o.mm, `${at}.start.others`);
    for (const n of [r.start.mm, ...(r.start.others ?? []).map((o) => o.mm)]) {
      if (n !== undefined && later.has(n)) throw new UserError(`${shown}: ${at}.start names mm '${n}', which is not alive at boot (a fork step allocates it)`);
    }
    if (r.start.mode !== 'idle' && r.start.mm === undefined) throw new UserError(`${shown}: ${at}.start: a ${r.start.mode} CPU needs an mm`);
  });
  programs.forEach(({ at, program }) => {
    for (const s of program.flatMap(stepsOf)) {
      const w = `${at} step ${s.op}`;
      switch (s.op) {
        case 'context_switch':
          mm(s.next, w, true);
          break;
        case 'set_pte':
          if ((s.mm === undefined) === (s.kernel !== true)) throw new UserError(`${shown}: ${w}: give either an mm or "kernel": true`);
          if (s.mm !== undefined && later.has(s.mm)) throw new UserError(`${shown}: ${w}: mm '${s.mm}' is allocated by fork; its PTEs are set up by its maps`);
          mm(s.mm, w);
          page(s.page, w);
          break;
        case 'flush_tlb_mm_range':
        case 'update_mm_pasid':
        case 'exit_mm':
          mm(s.mm, w);
          break;
        case 'fork':
        case 'exec':
          mm(s.mm, w);
          if (!later.has(s.mm)) throw new UserError(`${shown}: ${w}: mm '${s.mm}' is alive at boot; ${s.op} allocates an mm set up with "at" or "later"`);
          break;
        case 'free_pgtables':
        case 'collapse_pte_mapped_thp':
          mm(s.mm, w);
          page(s.reuse, w);
          break;
        case 'mm_call':
          mm(s.mm, w);
          break;
        case 'reuse_page':
          if ((s.page === undefined) === (s.table === undefined) || (s.table !== undefined) !== (s.va !== undefined)) {
            throw new UserError(`${shown}: ${w}: give either a page or a table and its va`);
          }
          page(s.page, w);
          mm(s.table, w);
          page(s.fillPage, w);
          break;
        case 'pmd_free_pte_page':
          page(s.reuse, w);
          break;
        case 'call':
          for (const [k, v] of Object.entries(s.args ?? {})) {
            if (typeof v === 'object' && 'mm' in v) mm(v.mm, `${w} ${s.fn}(${k})`);
            if (typeof v === 'object' && 'pte' in v) page(v.pte, `${w} ${s.fn}(${k})`);
          }
          break;
      }
    }
  });
  for (const inv of [...(f.invariants ?? []), ...(f.expect ?? []).flatMap((e) => (e.invariant === undefined ? [] : [e.invariant]))]) {
    if (!INVARIANTS.some((i) => i.id === inv)) throw new UserError(`${shown}: unknown invariant '${inv}' (known: ${INVARIANTS.map((i) => i.id).join(', ')})`);
  }
  for (const feat of f.features ?? []) {
    if (!ALL_FEATURE_NAMES.includes(feat as FeatureName)) throw new UserError(`${shown}: unknown feature '${feat}' (known: ${ALL_FEATURE_NAMES.join(', ')})`);
  }
  for (const [k, r] of Object.entries(f.params ?? {})) {
    if (r && r.max > 8) throw new UserError(`${shown}: params.${k} max is above 8`);
  }
  if (f.cpus.max > 8) throw new UserError(`${shown}: cpus.max is above 8`);
}

function scenarioOf(f: ScenarioFile, shown: string, json: unknown): Scenario {
  checkNames(f, shown);
  const steps = [...f.run, ...(f.tasks ?? [])].flatMap((r) => r.program.flatMap(stepsOf));
  const requires: ('flush_tlb_kernel_range' | 'update_mm_pasid' | 'mm_call' | 'pmd_free_pte_page' | 'flush_tlb_range' | 'copy_from_user_nmi')[] = (
    ['flush_tlb_kernel_range', 'update_mm_pasid', 'mm_call', 'pmd_free_pte_page'] as const
  ).filter((op) => steps.some((s) => s.op === op));
  // collapse_pte_mapped_thp flushes with flush_tlb_range().
  if (steps.some((s) => s.op === 'collapse_pte_mapped_thp')) requires.push('flush_tlb_range');
  if (f.nmi) requires.push('copy_from_user_nmi');
  const calls = [...new Set(steps.flatMap((s) => (s.op === 'call' ? [s.fn] : [])))];
  // Every CPU count in range must have a program for every CPU.
  for (let n = f.cpus.min; n <= f.cpus.max; n++) {
    for (let c = 0; c < n; c++) {
      if (!f.run.some((r) => matches(r.on, c, n))) {
        throw new UserError(`${shown}: with ${n} cpus, no run entry covers cpu${c}`);
      }
    }
  }
  return {
    id: f.id,
    title: f.title,
    description: f.description,
    cpus: { min: f.cpus.min, max: f.cpus.max, default: f.cpus.default },
    ...(f.params?.mms ? { mms: f.params.mms } : {}),
    ...(f.params?.ops ? { ops: f.params.ops } : {}),
    ...(requires.length > 0 ? { requires } : {}),
    ...(f.features ? { features: f.features as FeatureName[] } : {}),
    ...(f.invariants ? { invariants: f.invariants } : {}),
    ...(calls.length > 0 ? { calls } : {}),
    ...(f.expect ? { expect: f.expect.map((e) => ({ ...e }) as ScenarioExpect) } : {}),
    file: { path: shown, json },
    build: (p) => buildWorld(f, p, shown),
  };
}

interface Built {
  readonly w: WorldBuilder;
  readonly mms: Map<string, MmInfo>;
  readonly pages: Map<string, Pfn>;
  /** mms a fork step allocates, by name. */
  readonly later: Map<string, LaterMm>;
  /** Per mm name, the PMD-aligned span of its mappings: the model's one vma, which exit_mmap tears down. */
  readonly vma: Map<string, { start: number; end: number }>;
}

/** The PMD range (one leaf table) covering `va`. */
const PMD_SPAN = ENTRIES * 4096;

function widen(vma: Map<string, { start: number; end: number }>, name: string, va: number): void {
  const lo = Math.floor(va / PMD_SPAN) * PMD_SPAN;
  const v = vma.get(name);
  if (!v) vma.set(name, { start: lo, end: lo + PMD_SPAN });
  else vma.set(name, { start: Math.min(v.start, lo), end: Math.max(v.end, lo + PMD_SPAN) });
}

function buildWorld(f: ScenarioFile, given: Params, shown: string): World {
  // A parameter not given takes its default (callers such as the gate pass the CPUs only).
  const mms = given.mms ?? f.params?.mms?.default;
  const ops = given.ops ?? f.params?.ops?.default;
  const p: Params = { cpus: given.cpus, ...(mms === undefined ? {} : { mms }), ...(ops === undefined ? {} : { ops }) };
  const w = new WorldBuilder();
  const b: Built = { w, mms: new Map([['init_mm', w.mms[INIT_MM]!]]), pages: new Map(), later: new Map(), vma: new Map() };
  const laterRecs = new Map<string, ReturnType<WorldBuilder['laterMm']>>();
  const mm = (n: string): MmInfo => {
    const m = b.mms.get(n);
    if (!m) throw new UserError(`${shown}: mm '${n}' is not set up with ${paramText(p)}`);
    return b.w.mms[m.id]!; // userPgd() replaces the entry
  };
  const page = (n: string): Pfn => {
    const pfn = b.pages.get(n);
    if (pfn === undefined) throw new UserError(`${shown}: page '${n}' is not set up with ${paramText(p)}`);
    return pfn;
  };
  const extraVars: { name: string; owner: number }[] = [];
  for (const s of f.setup) {
    if (!holds(s.if, p)) continue;
    if ('mmSide' in s) {
      const m = mm(s.mmSide);
      const rec = laterRecs.get(s.mmSide);
      if (rec) for (const t of rec.tables) extraVars.push({ name: `ptl@${t.pfn}`, owner: -1 });
      else {
        for (let ui = 0; ui < ENTRIES; ui++) {
          const e = w.memory.get(entryLoc(m.pgd, ui));
          if (e !== undefined && entryPresent(e) && w.pages[entryPfn(e)]?.owner === m.id) extraVars.push({ name: `ptl@${entryPfn(e)}`, owner: -1 });
        }
      }
      // One mm_struct per address: an mm at another's address shares the words of its slot.
      if (!extraVars.some((x) => x.name === `${m.name}.tlb_flush_pending`)) {
        extraVars.push({ name: `${m.name}.tlb_flush_pending`, owner: -1 }, { name: `${m.name}.tlb_flush_batched`, owner: -1 });
      }
    } else if ('var' in s) extraVars.push({ name: s.var, owner: s.owner ?? -1 });
    else if ('map' in s) {
      const rec = laterRecs.get(s.map);
      if (rec) w.mapLater(rec, s.va, page(s.page), s.flags ?? 0);
      else w.mapUser(mm(s.map), s.va, page(s.page), s.flags ?? 0);
      widen(b.vma, s.map, s.va);
    }
    else if ('kmap' in s) w.mapKernel(s.kmap, page(s.page), s.global, s.flags ?? 0);
    else if ('table' in s) w.leafTable(mm(s.table), s.va);
    else if ('userPgd' in s) w.userPgd(mm(s.userPgd));
    else if ('mm' in s) {
      if (b.mms.has(s.mm)) throw new UserError(`${shown}: mm '${s.mm}' is set up twice`);
      if (s.at !== undefined || s.later === true) {
        const rec = w.laterMm(s.mm, s.at === undefined ? undefined : mm(s.at));
        laterRecs.set(s.mm, rec);
        b.later.set(s.mm, rec);
        b.mms.set(s.mm, w.mms[rec.slot]!);
      } else b.mms.set(s.mm, w.addMm(s.mm));
    } else {
      if (b.pages.has(s.page)) throw new UserError(`${shown}: page '${s.page}' is set up twice`);
      b.pages.set(s.page, w.dataPage());
    }
  }
  const starts: CpuStart[] = [];
  const programs: Program[] = [];
  for (let c = 0; c < p.cpus; c++) {
    const r = f.run.find((x) => holds(x.if, p) && matches(x.on, c, p.cpus));
    if (!r) throw new UserError(`${shown}: with ${paramText(p)}, no run entry covers cpu${c}`);
    starts.push(startOf(r.start, p, mm));
    const parts = r.program
      .map((part) => stepsOf(part).filter((s) => holds(s.if, p)))
      .filter((ss) => ss.length > 0)
      .map((ss) => partProgram(ss.map((s) => stepRoutine(s, b, mm, page, shown, c))));
    programs.push(inSegments(...parts));
  }
  const world = w.build(vaList(f.vas, p), starts, programs);
  const tasks: TaskSpec[] = [];
  for (const t of f.tasks ?? []) {
    if (!holds(t.if, p)) continue;
    const cpu = Number(t.on.slice(3));
    if (cpu >= p.cpus) throw new UserError(`${shown}: task ${t.name} runs on ${t.on}, which ${paramText(p)} does not have`);
    const parts = t.program
      .map((part) => stepsOf(part).filter((s) => holds(s.if, p)))
      .filter((ss) => ss.length > 0)
      .map((ss) => partProgram(ss.map((s) => stepRoutine(s, b, mm, page, shown, cpu))));
    tasks.push({ cpu, mm: t.mm === 'kthread' ? NO_MM : mm(t.mm).id, name: t.name, program: inSegments(...parts) });
  }
  // mm lifetimes: the ctx_id counter, and per later mm the word its fork's wake-up sets.
  const steps = [...f.run, ...(f.tasks ?? [])].flatMap((r) => r.program.flatMap(stepsOf));
  const lifetimes = b.later.size > 0 || steps.some((x) => x.op === 'fork' || x.op === 'exec');
  if (lifetimes) extraVars.push({ name: 'last_mm_ctx_id', owner: -1 }, ...[...b.later.keys()].map((n) => ({ name: `${n}.born`, owner: -1 })));
  // The boot counts of mm_users (read by the C too, e.g. a tlb_remove_table() that asks it).
  const users = new Map<number, number>();
  {
    const add = (id: number): void => void users.set(id, (users.get(id) ?? 0) + 1);
    const switchedTo = (program: readonly Part[], own: number | undefined): void => {
      const ids = new Set<number>();
      for (const x of program.flatMap(stepsOf)) {
        if (x.op === 'context_switch' && holds(x.if, p) && x.next !== 'kthread' && x.next !== 'init_mm' && !b.later.has(x.next)) ids.add(mm(x.next).id);
      }
      if (own !== undefined) ids.delete(own);
      ids.forEach(add);
    };
    for (let c = 0; c < p.cpus; c++) {
      const r = f.run.find((x) => holds(x.if, p) && matches(x.on, c, p.cpus))!;
      const own = r.start.mode === 'user' && r.start.mm !== undefined ? mm(r.start.mm).id : undefined;
      if (own !== undefined) add(own);
      switchedTo(r.program, own);
    }
    for (const t of tasks) {
      if (t.mm !== NO_MM) add(t.mm);
    }
    for (const t of f.tasks ?? []) if (holds(t.if, p)) switchedTo(t.program, t.mm === 'kthread' ? undefined : mm(t.mm).id);
  }
  return {
    ...world,
    mmUsers: [...users],
    ...(lifetimes ? { lifetimes: true, laterMms: [...b.later.values()] } : {}),
    ...(extraVars.length === 0 ? {} : { extraVars }),
    ...(tasks.length > 0 ? { tasks, preemptions: f.preemptions ?? 0 } : {}),
    ...(f.nmi ? { nmi: { budget: f.nmi.budget, va: f.nmi.va } } : {}),
  };
}

const paramText = (p: Params): string =>
  [`cpus=${p.cpus}`, ...(p.mms === undefined ? [] : [`mms=${p.mms}`]), ...(p.ops === undefined ? [] : [`ops=${p.ops}`])].join(', ');

function startOf(s: StartSpec, p: Params, mm: (n: string) => MmInfo): CpuStart {
  const base: CpuStart = { mode: s.mode, mm: s.mm === undefined ? INIT_MM : mm(s.mm).id, cached: vaList(s.cached, p) };
  const others = s.others?.map((o) => ({ mm: mm(o.mm).id, cached: vaList(o.cached, p), inMask: o.inMask }));
  return {
    ...base,
    ...(others ? { others } : {}),
    ...(s.globalAsid ? { globalAsid: { asid: s.globalAsid.asid, onGlobal: s.globalAsid.onGlobal } } : {}),
  };
}

type StepFn = (k: K<CoreRoutines>) => Routine;

function partProgram(steps: readonly StepFn[]): Program {
  return function* (k) {
    for (const s of steps) yield* s(k);
  };
}

function stepRoutine(s: Step, b: Built, mm: (n: string) => MmInfo, page: (n: string) => Pfn, shown: string, cpu: number): StepFn {
  const ptep = (m: MmInfo, va: number): Loc => {
    const loc = b.w.findPteLoc(m, va);
    if (loc === undefined) throw new UserError(`${shown}: cpu${cpu} writes the PTE of ${m.name} at 0x${va.toString(16)}, which no page table covers (map it in setup)`);
    return loc;
  };
  const mmId = (n: string): number => (n === 'kthread' ? NO_MM : mm(n).id);
  switch (s.op) {
    case 'context_switch': {
      const next = mmId(s.next);
      if (!b.later.has(s.next)) return (k) => k.r.context_switch(k, next);
      // A task of an mm that fork allocates: it runs once its fork woke it.
      const name = s.next;
      return function* (k) {
        yield* waitUntil(k.L.varLoc(`${name}.born`), (v) => v === 1, `${name}'s task to be woken by its fork`, 'wake_up_new_task');
        yield* k.r.context_switch(k, next);
      };
    }
    case 'fork': {
      const rec = b.later.get(s.mm)!;
      return (k) => dup_mm(k, rec);
    }
    case 'exec': {
      const rec = b.later.get(s.mm)!;
      // The old mm's one vma: the span of every mm's maps at its address (one lives there at a time).
      const vmaOf = (slot: number): { start: number; end: number } => {
        const spans = [...b.mms].filter(([, m]) => m.id === slot).flatMap(([n]) => (b.vma.has(n) ? [b.vma.get(n)!] : []));
        return spans.length === 0 ? { start: 0, end: 0 } : { start: Math.min(...spans.map((x) => x.start)), end: Math.max(...spans.map((x) => x.end)) };
      };
      return (k) => exec_mmap(k, rec, vmaOf);
    }
    case 'user_access': {
      const write = s.write ?? false;
      return function* (k) {
        yield* k.r.user_access(k, s.va, write);
      };
    }
    case 'kernel_access':
      return function* () {
        yield* call('kernel access', access(s.va, false, 'kernel reads va'));
      };
    case 'set_pte': {
      const pte = s.page === undefined ? 0 : makeEntry(page(s.page), s.global ?? false, s.flags ?? 0);
      if (s.kernel) {
        const loc = b.w.findKernelPteLoc(s.va);
        if (loc === undefined) throw new UserError(`${shown}: cpu${cpu} writes the kernel PTE at 0x${s.va.toString(16)}, which no kmap covers`);
        return function* () {
          yield* call('set_pte (kernel)', store(loc, pte, 'set_pte'));
        };
      }
      const loc = ptep(mm(s.mm!), s.va);
      return (k) => set_pte_at(k, loc, pte);
    }
    case 'flush_tlb_mm_range': {
      const id = mm(s.mm).id;
      const freed = s.freed_tables ?? false;
      const caller = s.in;
      if (caller !== undefined) return (k) => call(caller, k.r.flush_tlb_mm_range(k, id, s.start, s.end, freed));
      return (k) => k.r.flush_tlb_mm_range(k, id, s.start, s.end, freed);
    }
    case 'exit_mm': {
      const id = mm(s.mm).id;
      const vma = b.vma.get(s.mm) ?? { start: 0, end: 0 };
      return (k) => exit_mm(k as K<MmRoutines>, id, vma);
    }
    case 'flush_tlb_kernel_range':
      return function* (k) {
        if (!k.r.flush_tlb_kernel_range) throw new UserError(`scenario needs a variant with flush_tlb_kernel_range (e.g. linux-4.15-pti)`);
        yield* k.r.flush_tlb_kernel_range(k, s.start, s.end);
      };
    case 'update_mm_pasid': {
      const id = mm(s.mm).id;
      return function* (k) {
        if (!k.r.update_mm_pasid) throw new UserError(`scenario needs a variant with update_mm_pasid (e.g. pasid-ipi-mb)`);
        yield* k.r.update_mm_pasid(k, id, s.pasid);
      };
    }
    case 'free_pgtables': {
      const m = mm(s.mm);
      const pmdp = b.w.pmdLoc(m, s.va);
      const table = b.w.findPteLoc(m, s.va) === undefined ? undefined : b.w.leafTable(m, s.va);
      if (table === undefined) throw new UserError(`${shown}: cpu${cpu} frees the page table of ${m.name} at 0x${s.va.toString(16)}, which setup does not create`);
      const args = { mm: { t: 'mm', id: m.id } as Val, pmd: pmdp, table, start: s.start, end: s.end, reuse: makeEntry(page(s.reuse)) };
      return (k) => freePgtables(k, args);
    }
    case 'pmd_free_pte_page': {
      const pmd = b.w.pmdLoc(b.w.mms[INIT_MM]!, s.va);
      const e = b.w.memory.get(pmd);
      if (e === undefined || b.w.findKernelPteLoc(s.va) === undefined) throw new UserError(`${shown}: cpu${cpu} frees the kernel PTE page at 0x${s.va.toString(16)}, which no kmap creates`);
      const table = entryPfn(e);
      const fill = makeEntry(page(s.reuse));
      return (k) => huge_vmap_free_pte_page(k, pmd, s.va, table, fill);
    }
    case 'collapse_pte_mapped_thp': {
      const m = mm(s.mm);
      const pmdp = b.w.pmdLoc(m, s.va);
      const table = b.w.findPteLoc(m, s.va) === undefined ? undefined : b.w.leafTable(m, s.va);
      if (table === undefined) throw new UserError(`${shown}: cpu${cpu} collapses the page table of ${m.name} at 0x${s.va.toString(16)}, which setup does not create`);
      const fill = makeEntry(page(s.reuse));
      return (k) => collapse_pte_mapped_thp(k, m.id, pmdp, table, s.start, s.end, fill);
    }
    case 'local_irq_disable':
      return function* () {
        yield* call('local_irq_disable', irqDisable('scenario'));
      };
    case 'local_irq_enable':
      return function* () {
        yield* call('local_irq_enable', irqEnable('scenario'));
      };
    case 'mm_call': {
      const m = mm(s.mm);
      const more = s.new_addr === undefined ? {} : { new_addr: s.new_addr };
      return function* (k) {
        if (!k.r.mm_call) throw new UserError(`scenario calls ${s.fn}(), but the variant has no mm side (link=mm/... in a base)`);
        yield* k.r.mm_call(k, s.fn, m.id, s.start, s.end, more);
      };
    }
    case 'reuse_page': {
      const pfn = s.page !== undefined ? page(s.page) : Math.floor(ptep(mm(s.table!), s.va!) / ENTRIES);
      const fill = s.fillPage !== undefined ? makeEntry(page(s.fillPage)) : (s.fill ?? 0);
      return function* () {
        yield* reusePage(pfn, fill, 'page allocated again');
      };
    }
    case 'call': {
      const fixed: Record<string, Val> = {};
      const self: string[] = [];
      for (const [name, v] of Object.entries(s.args ?? {})) {
        if (v === 'this_cpu') self.push(name);
        else fixed[name] = argValue(v, mm, page);
      }
      return function* (k) {
        if (!k.r.call_c) throw new UserError(`scenario calls ${s.fn}(), but the variant is not a C program`);
        const args = self.length === 0 ? fixed : { ...fixed, ...Object.fromEntries(self.map((n) => [n, k.cpu])) };
        yield* k.r.call_c(k, s.fn, args);
      };
    }
  }
}

function argValue(v: Exclude<ArgVal, 'this_cpu'>, mm: (n: string) => MmInfo, page: (n: string) => Pfn): Val {
  if (typeof v === 'number') return v;
  if ('mm' in v) return { t: 'mm', id: mm(v.mm).id };
  return makeEntry(page(v.pte), v.global ?? false, v.flags ?? 0);
}

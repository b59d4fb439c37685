/**
 * Runs a parsed litmus test on the machine that checks the kernel (exhaustive stateful DFS
 * through the litmus harness, speculative walks of the declared vas included) and reports
 * herd7's verdict lines. Positive/Negative and the Observation counts are counts of distinct
 * final states (herd7 counts candidate executions; the verdict words are the same).
 */
import type { Machine, MachineInit } from '../machine/machine.ts';
import type { LitmusTest } from './ast.ts';
import { compile } from './compile.ts';
import { checkProp, type FinalState, formatCondition, holds, lhsKey } from './cond.ts';
import { exploreLitmus } from './harness.ts';

export type Verdict = 'Never' | 'Sometimes' | 'Always';

export interface LitmusResult {
  readonly name: string;
  /** `Required` for `forall`, else `Allowed`. */
  readonly kind: 'Allowed' | 'Required';
  /** Final states as herd7 prints them, sorted. */
  readonly states: readonly string[];
  readonly ok: boolean;
  /** Final states that validate the condition (herd7's Witnesses), and those that do not. */
  readonly positive: number;
  readonly negative: number;
  readonly condition: string;
  readonly observation: Verdict;
  /** States where the proposition holds / does not (the Observation line's counts). */
  readonly p: number;
  readonly n: number;
  /** The `Expect=` metadata, if any. */
  readonly expected?: string;
  /** Distinct machine states the search visited (DPOR: executions). */
  readonly searched: number;
}

export function runLitmus(
  test: LitmusTest,
  makeMachine?: (init: MachineInit) => Machine,
  engine: 'stateful' | 'dpor' = 'stateful',
): LitmusResult {
  const c = compile(test);
  checkProp(test.cond.prop, c.pages);
  const keyLhs = [...test.show, ...collect(test.cond.prop)].filter((l) => l.k !== 'violation');
  const keys = [...new Set(keyLhs.map(lhsKey))].sort(byKey);
  const watchViolation = [...test.show, ...collect(test.cond.prop)].some((l) => l.k === 'violation');
  const pageName = new Map([...c.pages].map(([name, pfn]) => [pfn, name]));
  const show = (k: string, v: number): string => (c.pageRegs.has(k) ? (pageName.get(v) ?? String(v)) : String(v));
  const seen = new Map<string, FinalState>();
  const add = (peek: (name: string) => number, violation?: string): void => {
    const vals = new Map(keys.map((k) => [k, peek(k)]));
    const v = violation ?? (watchViolation ? 'none' : undefined);
    const line = [...keys.map((k) => `${k}=${show(k, vals.get(k)!)};`), ...(v ? [`violation=${v};`] : [])].join(' ');
    if (!seen.has(line)) seen.set(line, violation ? { vals, violation } : { vals });
  };
  const r = exploreLitmus(c.spec, { final: (peek) => add(peek), violation: (v, peek) => add(peek, v.invariant) }, makeMachine, engine);
  if (!r.complete) throw new Error(`[tlbcheck bug] litmus search of ${test.name} did not complete`);
  let p = 0;
  for (const s of seen.values()) if (holds(test.cond.prop, s, c.pages)) p++;
  const n = seen.size - p;
  const q = test.cond.quant;
  const ok = q === 'exists' ? p > 0 : q === '~exists' ? p === 0 : n === 0;
  const expected = test.meta.get('Expect');
  return {
    name: test.name,
    kind: q === 'forall' ? 'Required' : 'Allowed',
    states: [...seen.keys()].sort(),
    ok,
    positive: q === '~exists' ? n : p,
    negative: q === '~exists' ? p : n,
    condition: formatCondition(test.cond),
    observation: p === 0 ? 'Never' : n === 0 ? 'Always' : 'Sometimes',
    p,
    n,
    ...(expected === undefined ? {} : { expected }),
    searched: r.searched,
  };
}

function collect(p: LitmusTest['cond']['prop']): LitmusTest['show'] {
  if (p.k === 'atom') return [p.lhs];
  if (p.k === 'and' || p.k === 'or') return [...collect(p.a), ...collect(p.b)];
  if (p.k === 'not') return collect(p.a);
  return [];
}

/** Registers (`0:EAX`) by thread then name, then locations by name. */
function byKey(a: string, b: string): number {
  const ra = /^(\d+):(.*)$/.exec(a);
  const rb = /^(\d+):(.*)$/.exec(b);
  if (ra && rb) return Number(ra[1]) - Number(rb[1]) || ra[2]!.localeCompare(rb[2]!);
  if (ra) return -1;
  if (rb) return 1;
  return a.localeCompare(b);
}

/** herd7's output for one test. */
export function formatLitmus(r: LitmusResult): string[] {
  return [
    `Test ${r.name} ${r.kind}`,
    `States ${r.states.length}`,
    ...r.states,
    r.ok ? 'Ok' : 'No',
    'Witnesses',
    `Positive: ${r.positive} Negative: ${r.negative}`,
    `Condition ${r.condition}`,
    `Observation ${r.name} ${r.observation} ${r.p} ${r.n}`,
  ];
}

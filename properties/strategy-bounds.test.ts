/**
 * Every search honours every bound it accepts (accepts.ts) and refuses the others in one line.
 * The preemption bound is checked against its meaning: bfs and dfs agree under it (before this
 * table, bfs ignored it and found linux-4.13-cr3-before-cpumask's 3-preemption bug at bound 0),
 * and no randomized tape takes more non-default choices than it allows. Seeds are fixed.
 */
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import { ACCEPTS, type Knob, type SearchKind } from '../src/explore/accepts.ts';
import { type SearchOptions, search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { cli } from './helpers.ts';

const modelOf = (variant: string, scenario = 'switch-vs-flush', cpus = 2, preemptions?: number) =>
  prepare({
    variant: findVariant(variant)!,
    scenario: findScenario(scenario)!,
    params: { cpus },
    features: findVariant(variant)!.features,
    bounds: preemptions === undefined ? DEFAULT_BOUNDS : { ...DEFAULT_BOUNDS, preemptions },
  });

const KINDS = Object.keys(ACCEPTS) as SearchKind[];
const KNOBS: readonly Knob[] = ['maxExecutions', 'timeMs', 'maxMemoryMb', 'maxStates', 'preemptions', 'por', 'noPor', 'bitstate', 'depth', 'delays', 'shard', 'noDefer'];

/** Search options for `kind` with `knob` set (a value that takes effect on a small model). */
function optionsWith(kind: SearchKind, knob: Knob): SearchOptions {
  const strategy = kind === 'dfs-stateless' ? 'dfs' : kind;
  const base: SearchOptions = { strategy, seed: 1, ...(kind === 'dfs-stateless' ? { stateless: true } : {}) };
  switch (knob) {
    case 'maxExecutions':
      return { ...base, maxExecutions: 2 };
    case 'timeMs':
      return { ...base, timeMs: 1 };
    case 'maxMemoryMb':
      return { ...base, maxMemoryMb: 1 };
    case 'maxStates':
      return { ...base, maxStates: 50 };
    case 'preemptions':
      return base;
    case 'por':
      return { ...base, por: true };
    case 'noPor':
      return { ...base, por: false };
    case 'bitstate':
      return { ...base, bitstate: 20 };
    case 'depth':
      return { ...base, depth: 2 };
    case 'delays':
      return { ...base, delays: 1 };
    case 'shard':
      return { ...base, shard: { index: 2, count: 3 } };
    case 'noDefer':
      return { ...base, defer: false };
  }
}

describe('a bound a search does not honour is refused in one line', () => {
  for (const kind of KINDS) {
    for (const knob of KNOBS.filter((k) => !ACCEPTS[kind].includes(k))) {
      it(`${kind} refuses ${knob}`, () => {
        const model = modelOf('linux-4.13', 'switch-vs-flush', 2, knob === 'preemptions' ? 1 : undefined);
        let err: unknown;
        try {
          search(model, optionsWith(kind, knob));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(UserError);
        const msg = (err as UserError).message;
        expect(msg).toMatch(/^--strategy /);
        expect(msg.split('\n')).toHaveLength(1);
      });
    }
  }

  it('the CLI prints the refusal as one line and exits 2', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--strategy', 'bfs', '--depth', '2');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("tlbcheck: --strategy bfs does not take --depth: --depth is PCT's bug depth");
  });
});

describe('a bound a search accepts takes effect', () => {
  // A model big enough that 2 executions, 50 states, 1 ms or 1 MiB cut every search short.
  const big = () => modelOf('linux-4.13', 'switch-vs-flush', 3);
  for (const kind of KINDS) {
    const randomized = !['dfs', 'dfs-stateless', 'bfs', 'dpor'].includes(kind);
    for (const knob of ['maxExecutions', 'timeMs', 'maxMemoryMb', 'maxStates'] as const) {
      if (!ACCEPTS[kind].includes(knob)) continue;
      it(`${kind} stops at ${knob}`, () => {
        const r = search(big(), optionsWith(kind, knob));
        expect(r.verdict).toBe(randomized ? 'no-violation' : 'inconclusive');
        const stop = { maxExecutions: 'executions', timeMs: 'time', maxMemoryMb: 'memory', maxStates: 'states' }[knob];
        // A randomized search's run count is its normal end, not a stop.
        if (!(randomized && knob === 'maxExecutions')) expect(r.stop).toBe(stop);
        if (knob === 'maxExecutions') expect(r.executions).toBeLessThanOrEqual(2);
      });
    }
  }

  it('dfs and bfs never store more states than --max-states, also when the search would finish soon after', () => {
    // switch-vs-flush at 2 CPUs completes in a few hundred states, before the time and memory
    // budgets are first polled: a state budget checked only with them would be ignored.
    for (const strategy of ['dfs', 'bfs'] as const) {
      const full = search(modelOf('linux-4.13', 'switch-vs-flush', 2), { strategy, seed: 1 });
      expect(full.verdict).toBe('holds');
      expect(full.states).toBeGreaterThan(100);
      const cut = search(modelOf('linux-4.13', 'switch-vs-flush', 2), { strategy, seed: 1, maxStates: 10 });
      expect(cut.verdict).toBe('inconclusive');
      if (cut.verdict === 'inconclusive') expect(cut.stop).toBe('states');
      expect(cut.states).toBe(10);
      // A budget the search does not reach leaves the verdict alone; reaching it exactly is
      // inconclusive, as --max-states says (the last state stored may still have moves to explore).
      expect(search(modelOf('linux-4.13', 'switch-vs-flush', 2), { strategy, seed: 1, maxStates: full.states! + 1 }).verdict).toBe('holds');
      expect(search(modelOf('linux-4.13', 'switch-vs-flush', 2), { strategy, seed: 1, maxStates: full.states! }).verdict).toBe('inconclusive');
    }
  });

  it('dfs and bfs agree under every preemption bound, and the bound decides the verdict', () => {
    for (const p of [0, 1, 2, 3]) {
      const d = search(modelOf('linux-4.13-cr3-before-cpumask', 'switch-vs-flush', 2, p), { strategy: 'dfs', seed: 1 });
      const b = search(modelOf('linux-4.13-cr3-before-cpumask', 'switch-vs-flush', 2, p), { strategy: 'bfs', seed: 1 });
      const s = search(modelOf('linux-4.13-cr3-before-cpumask', 'switch-vs-flush', 2, p), { strategy: 'dfs', seed: 1, stateless: true });
      expect(b.verdict).toBe(d.verdict);
      expect(s.verdict).toBe(d.verdict);
      expect(d.verdict).toBe(p < 3 ? 'holds' : 'violated');
      if (b.verdict === 'violated') expect(b.tape.filter((c) => c !== 0).length).toBeLessThanOrEqual(p);
      // Without sleep sets (off under a bound) both count the same states.
      const f = search(modelOf('linux-4.13', 'switch-vs-flush', 2, p), { strategy: 'dfs', seed: 1 });
      const g = search(modelOf('linux-4.13', 'switch-vs-flush', 2, p), { strategy: 'bfs', seed: 1 });
      expect(g.states).toBe(f.states);
    }
  });

  it('random, delay and swarm never take more non-default choices than the preemption bound', () => {
    for (const strategy of ['random', 'delay', 'swarm'] as const) {
      for (const p of [0, 1, 2]) {
        let violated = 0;
        for (const seed of [1, 2, 3]) {
          const r = search(modelOf('linux-4.13-flush-no-mb', 'switch-vs-flush', 2, p), { strategy, seed, maxExecutions: 300 });
          if (r.verdict !== 'violated') continue;
          violated++;
          expect(r.tape.filter((c) => c !== 0).length).toBeLessThanOrEqual(p);
        }
        expect(violated, `${strategy} found the 0-preemption bug under bound ${p}`).toBeGreaterThan(0);
      }
      // The 3-preemption bug is out of reach under 2.
      expect(search(modelOf('linux-4.13-cr3-before-cpumask', 'switch-vs-flush', 2, 2), { strategy, seed: 1, maxExecutions: 2000 }).verdict).toBe('no-violation');
    }
  });

  it('--no-por turns sleep sets off in dfs (more transitions, the same states as sleep sets alone), --no-defer turns deferral off (more states), bitstate changes the store, depth and delays reach their strategies', () => {
    const deferred = search(modelOf('linux-4.13', 'switch-vs-flush', 3), { strategy: 'dfs', seed: 1 });
    const on = search(modelOf('linux-4.13', 'switch-vs-flush', 3), { strategy: 'dfs', seed: 1, defer: false });
    const off = search(modelOf('linux-4.13', 'switch-vs-flush', 3), { strategy: 'dfs', seed: 1, por: false });
    expect(off.states).toBe(on.states);
    expect(off.transitions!).toBeGreaterThan(on.transitions!);
    expect(off.sleepPruned).toBe(0);
    expect([off.deferred, on.deferred]).toEqual([0, 0]);
    expect(deferred.deferred!).toBeGreaterThan(0);
    expect(deferred.states!).toBeLessThan(on.states!);
    expect(deferred.verdict).toBe(on.verdict);
    for (const strategy of ['dfs', 'bfs'] as const) expect(search(modelOf('linux-4.13'), { strategy, seed: 1, bitstate: 20 }).store?.kind).toBe('bitstate');
    const pct = search(modelOf('linux-4.13'), { strategy: 'pct', seed: 1, depth: 2, maxExecutions: 10 });
    expect(pct.strategy === 'pct' && pct.guarantee.depth).toBe(2);
    const delay = search(modelOf('linux-4.13'), { strategy: 'delay', seed: 1, delays: 1, maxExecutions: 10 });
    expect(delay.strategy === 'delay' && delay.delays).toBe(1);
  });
});

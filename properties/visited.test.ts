/**
 * The visited set: the hash-compaction table (visited.ts) agrees with a Map over the same 64-bit
 * keys through growth and value widening, compares both hash words, and costs what its header
 * says per state; bitstate (bitstate.ts) marks and recognises states, its coverage estimate
 * matches Holzmann's closed form, a too-small bit array is shown to lose states, and a bitstate
 * search never reports HOLDS. Seeds are fixed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitstateTable, bitstateCoverage } from '../src/explore/bitstate.ts';
import { search } from '../src/explore/check.ts';
import { prepare } from '../src/explore/engine.ts';
import { VisitedTable } from '../src/explore/visited.ts';
import { SleepPool } from '../src/explore/sleep-pool.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { cli } from './helpers.ts';

const key = (hi: number, lo: number): Uint32Array => Uint32Array.of(hi, lo);

describe('hash-compaction table', () => {
  it('agrees with a Map on inserts, lookups and stored values, through growth (fast-check, seed 14)', () => {
    const word = fc.oneof(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xffffffff }));
    const op = fc.record({ hi: word, lo: word, v: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70000 })) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const t = new VisitedTable(true, 16);
        const ref = new Map<string, number>();
        for (const { hi, lo, v } of ops) {
          // (0, 0) is stored as (0, 1): the table says so in its header.
          const k = `${hi},${hi === 0 && lo === 0 ? 1 : lo}`;
          const slot = t.findOrInsert(key(hi, lo), v);
          const had = ref.get(k);
          expect(slot >= 0).toBe(had !== undefined);
          if (had === undefined) ref.set(k, v);
          else {
            expect(t.value(slot)).toBe(had);
            t.setValue(slot, v);
            ref.set(k, v);
          }
        }
        expect(t.size).toBe(ref.size);
        for (const [k, v] of ref) {
          const [hi, lo] = k.split(',').map(Number) as [number, number];
          expect(t.has(key(hi, lo))).toBe(true);
          expect(t.value(t.findOrInsert(key(hi, lo)))).toBe(v);
        }
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('tells apart keys that share their first word (the index word) or their second', () => {
    const t = new VisitedTable(false);
    expect(t.findOrInsert(key(5, 1))).toBeLessThan(0);
    expect(t.findOrInsert(key(5, 2))).toBeLessThan(0);
    expect(t.findOrInsert(key(6, 1))).toBeLessThan(0);
    expect(t.findOrInsert(key(5, 2))).toBeGreaterThanOrEqual(0);
    expect(t.size).toBe(3);
  });

  it('costs at most 14.07 bytes per state with one-byte values, 15.63 with two-byte ones and 12.51 without, at every size from 1000 states', () => {
    const withV = new VisitedTable(true);
    const wide = new VisitedTable(true);
    const first = new Uint32Array(2);
    const without = new VisitedTable(false);
    const h = new Uint32Array(2);
    let x = 0x12345678;
    for (let n = 1; n <= 200_000; n++) {
      // xorshift32: distinct-enough keys, deterministic
      for (let j = 0; j < 2; j++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        h[j] = x >>> 0;
      }
      withV.findOrInsert(h, n & 3);
      wide.findOrInsert(h, n === 1 ? 300 : n & 3);
      if (n === 1) first.set(h);
      without.findOrInsert(h);
      if (n >= 1000) {
        // Between 64% and 80% full (a little under 64% right after a growth: the capacity is
        // rounded up): 9, 10 and 8 bytes per slot.
        expect(withV.bytes / withV.size).toBeLessThanOrEqual(14.07);
        expect(withV.bytes / withV.size).toBeGreaterThanOrEqual(11.25);
        expect(wide.bytes / wide.size).toBeLessThanOrEqual(15.63);
        expect(without.bytes / without.size).toBeLessThanOrEqual(12.51);
      }
    }
    expect(withV.size).toBe(200_000);
    // The two-byte value stored first survived every growth.
    expect(wide.value(wide.findOrInsert(first))).toBe(300);
  });
});

describe('bitstate', () => {
  it('marks a state once and recognises it after', () => {
    const b = new BitstateTable(16);
    expect(b.testAndSet(key(1, 2))).toBe(true);
    expect(b.testAndSet(key(1, 2))).toBe(false);
    expect(b.testAndSet(key(1, 3))).toBe(true);
    expect(b.size).toBe(2);
    expect(b.bytes).toBe(2 ** 16 / 8);
  });

  it("coverage estimate matches Holzmann's closed form for k = 3", () => {
    // 1 - (1/n) * integral_0^n (1 - e^(-3x/m))^3 dx, expanded binomially.
    const closed = (n: number, m: number): number => {
      const e = (j: number) => (m / (3 * j)) * (1 - Math.exp((-3 * j * n) / m));
      return 1 - (n - 3 * e(1) + 3 * e(2) - e(3)) / n;
    };
    for (const [n, m] of [[1e6, 2 ** 20], [1e5, 2 ** 20], [3e6, 2 ** 24], [1e7, 2 ** 24]] as const) {
      expect(bitstateCoverage(n, m, 3)).toBeCloseTo(closed(n, m), 4);
    }
    expect(bitstateCoverage(1000, 2 ** 30, 3)).toBeGreaterThan(0.999999);
    expect(bitstateCoverage(1e7, 2 ** 20, 3)).toBeLessThan(0.2);
  });

  const model = (variant: string, scenario: string, cpus: number) =>
    prepare({ variant: findVariant(variant)!, scenario: findScenario(scenario)!, params: { cpus }, features: findVariant(variant)!.features, bounds: DEFAULT_BOUNDS });

  it('a search that ends is inconclusive with its coverage, never HOLDS; a violation is still found', () => {
    const r = search(model('linux-4.13', 'switch-vs-flush', 3), { strategy: 'dfs', seed: 1, bitstate: 24 });
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/^no violation found \(bitstate, coverage ~\d+\.\d+%\)$/);
    expect(r.store?.kind).toBe('bitstate');
    const b = search(model('linux-4.13', 'switch-vs-flush', 3), { strategy: 'bfs', seed: 1, bitstate: 24 });
    expect(b.verdict).toBe('inconclusive');
    expect(search(model('linux-4.13-flush-no-mb', 'switch-vs-flush', 2), { strategy: 'dfs', seed: 1, bitstate: 20 }).verdict).toBe('violated');
  });

  it('a bit array too small for the model loses states (the mode is not exhaustive), a large one loses none here', () => {
    const m = model('linux-6.18', 'spin-scaled', 3);
    const full = search(m, { strategy: 'dfs', seed: 1, por: false });
    const big = search(m, { strategy: 'dfs', seed: 1, por: false, bitstate: 28 });
    const small = search(m, { strategy: 'dfs', seed: 1, por: false, bitstate: 12 });
    expect(full.verdict).toBe('holds');
    expect(big.states).toBe(full.states);
    expect(small.states!).toBeLessThan(full.states!);
    if (small.store?.kind !== 'bitstate') throw new Error('expected a bitstate store');
    expect(small.store.coverage).toBeLessThan(0.9);
  });

  it('the CLI refuses a bit-array size out of range in one line (exit 2)', async () => {
    const r = await cli('check', '--variant', 'linux-4.13', '--scenario', 'switch-vs-flush', '--bitstate', '5');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/--bitstate.*expected 10\.\.34/);
  });
});

describe('SleepPool', () => {
  it('gives one id per distinct set, whatever the order of its moves', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }), { maxLength: 40 }), (sets) => {
        const pool = new SleepPool();
        const byKey = new Map<string, number>();
        for (const s of sets) {
          const id = pool.idOf(s);
          const key = [...s].sort((a, b) => a - b).join(',');
          if (s.length === 0) expect(id).toBe(0);
          const seen = byKey.get(key);
          if (seen === undefined) byKey.set(key, id);
          else expect(id).toBe(seen);
          expect([...pool.get(id)]).toEqual([...s].sort((a, b) => a - b));
          expect(pool.idOf([...s].reverse())).toBe(id);
        }
        expect(pool.count).toBe([...byKey.keys()].filter((k) => k !== '').length);
      }),
    );
  });
});

/**
 * Plain-text tables line up: `tlbcheck list` puts every title of a section in one column,
 * however long the ids, and the gate table has a features column, so rows that differ only in
 * features (kaiser-invpcid with and without INVPCID) no longer look like duplicates.
 */
import { describe, expect, it } from 'vitest';
import { VARIANTS } from '../src/kernel/index.ts';
import { columns } from '../src/report/columns.ts';
import { cli } from './helpers.ts';

describe('text tables', () => {
  it('columns() pads every column to its widest cell and right-aligns the numeric ones', () => {
    expect(columns([['a', 'bbb', '1'], ['cccc', 'd', '22']], new Set([2]))).toEqual(['a     bbb   1', 'cccc  d    22']);
  });

  it('list: the kind and title of every variant start at the same column, the longest id included', async () => {
    const out = (await cli('list')).out.split('\n');
    const longest = [...VARIANTS].sort((a, b) => b.id.length - a.id.length)[0]!;
    const starts = VARIANTS.map((v) => {
      const line = out.find((l) => l.startsWith(`  ${v.id} `))!;
      return line.indexOf(` ${v.kind} `, v.id.length) + 1;
    });
    expect(new Set(starts).size).toBe(1);
    expect(starts[0]).toBe(2 + longest.id.length + 2);
  });

  it('gate: a features column tells apart rows that differ only in features', async () => {
    const r = await cli('gate', '--variant', 'kaiser-invpcid');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^variant\s+scenario\s+cpus\s+features\s+expected/);
    const rows = lines.filter((l) => l.startsWith('kaiser-invpcid ') && / 2 /.test(l));
    expect(rows.some((l) => l.includes('pcid,-invpcid,'))).toBe(true);
    expect(rows.some((l) => l.includes('pcid,invpcid,'))).toBe(true);
    // Every row's expected column starts where the header's does.
    const at = lines[0]!.indexOf('expected');
    for (const l of rows) expect(l.slice(at).startsWith('violates') || l.slice(at).startsWith('holds')).toBe(true);
  });
});

/**
 * Plain-text tables: every column as wide as its widest cell, two spaces between columns,
 * numbers right-aligned. Used by `tlbcheck list` and the gate table.
 */
export function columns(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set(), indent = ''): string[] {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const w = Array.from({ length: n }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (right.has(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ')}`.trimEnd());
}

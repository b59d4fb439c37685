/** `tlbcheck gate`: the expected verdicts of every variant, as a table. */
import { VARIANTS } from '../kernel/index.ts';
import { resolveVariant } from '../kernel/load.ts';
import type { Variant } from '../kernel/variant.ts';
import { actualText, expectedText, rowsOf, runRow } from '../gate/gate.ts';
import { formatBounds } from '../machine/types.ts';
import type { Io } from './main.ts';

export async function runGate(io: Io, o: { variant?: string[]; time?: number; json?: boolean }): Promise<number> {
  const variants: Variant[] = [];
  if (o.variant) for (const spec of o.variant) variants.push((await resolveVariant(spec)).variant);
  else variants.push(...VARIANTS);
  const rows = rowsOf(variants);
  const results = [];
  if (!o.json) io.out(`${'variant'.padEnd(32)} ${'scenario'.padEnd(22)} cpus ${'expected'.padEnd(28)} ${'actual'.padEnd(28)} ${'states'.padStart(8)} ${'time'.padStart(8)}`);
  for (const row of rows) {
    const r = runRow(row, o.time === undefined ? undefined : o.time * 1000);
    results.push(r);
    if (!o.json) {
      io.out(
        `${row.variant.id.padEnd(32)} ${row.expect.scenario.padEnd(22)} ${String(row.expect.cpus).padStart(4)} ${expectedText(row.expect).padEnd(28)} ${(r.ok ? '' : '!! ') + actualText(r.actual)}`.padEnd(130) +
          ` ${String(r.actual.states ?? r.actual.executions).padStart(8)} ${`${r.actual.elapsedMs}ms`.padStart(8)}`,
      );
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  if (o.json) {
    io.out(
      JSON.stringify({
        rows: results.map((r) => ({
          variant: r.row.variant.id,
          scenario: r.row.expect.scenario,
          cpus: r.row.expect.cpus,
          features: r.row.features,
          expected: expectedText(r.row.expect),
          actual: actualText(r.actual),
          ok: r.ok,
          executions: r.actual.executions,
          states: r.actual.states ?? null,
          elapsedMs: r.actual.elapsedMs,
        })),
        summary: { rows: results.length, passed: results.length - failed, failed },
      }),
    );
  } else {
    io.out('');
    io.out(`${results.length - failed}/${results.length} rows as expected.`);
    io.out(`Covered: for each row, every interleaving of the programs, store-buffer drains, IPI deliveries and speculative walks (${formatBounds(rows[0]?.bounds ?? { walks: Infinity, sbDepth: 2, evictions: 0, maxSteps: 400 })}).`);
  }
  return failed === 0 ? 0 : 1;
}

/**
 * Text and JSON of a merged swarm (explore/merge-shards.ts). Pure functions: only the CLI prints.
 */
import type { Merged } from '../explore/merge-shards.ts';

export function mergeText(m: Merged): string {
  const lines = [`${m.variant} on ${m.scenario} (cpus ${m.cpus}): swarm seed ${m.seed}, ${m.shards} shard${m.shards === 1 ? '' : 's'}`];
  const runs = `${m.ran} of ${m.members} swarm members ran (${m.executions} executions, ${m.steps} steps; slowest shard ${(m.slowestMs / 1000).toFixed(1)} s)`;
  if (m.verdict === 'violated') {
    const invariants = [...new Set(m.violations.map((v) => v.invariant))].join(', ');
    lines.push(`VIOLATED ${invariants} in ${m.violations.length} of ${m.shards} shards`);
    lines.push(`  ${runs}`);
    for (const v of m.violations) {
      lines.push(`  shard ${v.shard}/${m.shards}: ${v.invariant}: ${v.message}`);
      if (v.counterexample) lines.push(`    counterexample: ${v.counterexample} (replay: npx tlbcheck replay ${v.counterexample})`);
    }
  } else {
    lines.push('NO-VIOLATION');
    lines.push(`  ${runs}; no violation found, which proves nothing by itself`);
  }
  for (const c of m.cut) lines.push(`  shard ${c.shard}/${m.shards} stopped before its slice was done: ${c.reason}`);
  return lines.join('\n');
}

export function mergeJson(m: Merged): Record<string, unknown> {
  return { ...m, complete: m.ran === m.members || m.verdict === 'violated' };
}

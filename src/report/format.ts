/**
 * Text and JSON renderings of check results. Pure functions: only the CLI prints.
 */
import type { CheckResult } from '../explore/check.ts';
import { formatBounds, formatFeatures } from '../machine/types.ts';
import { boundsToJson } from '../counterexample/counterexample.ts';

export function strategyText(r: CheckResult): string {
  switch (r.strategy) {
    case 'dfs':
      return r.search === 'stateless' ? 'dfs (stateless re-execution)' : 'dfs (stateful, fingerprinted states)';
    case 'bfs':
      return 'bfs (stateful, shortest counterexample first)';
    case 'dpor':
      return 'dpor (stateless source-DPOR with sleep sets)';
    case 'pct':
      return `pct depth ${r.guarantee.depth} (seed ${r.seed})`;
    case 'delay':
      return `delay bounding, ${r.delays} delays per run (seed ${r.seed})`;
    case 'swarm': {
      const s = r.swarm;
      return `swarm (seed ${r.seed}, members ${s.first}..${s.end - 1} of ${s.total}${s.shard ? `, shard ${s.shard.index}/${s.shard.count}` : ''})`;
    }
    case 'random':
      return `random (seed ${r.seed})`;
  }
}

/** PCT's printed guarantee. */
export function guaranteeText(r: CheckResult): string | undefined {
  const g = r.guarantee;
  if (!g) return undefined;
  return (
    `PCT: one run finds a given depth-${g.depth} bug with probability >= 1/(2^w*n*k^(d-1)) = ${g.perRun.toExponential(2)} ` +
    `(n=${g.actors} actors, w=${g.optional} of them optional, muted at random, k=${g.k} steps); all ${r.executions} runs miss it with probability <= ${g.missBound.toExponential(2)}`
  );
}

export function countsText(r: CheckResult): string {
  const parts = [`${r.executions} executions`];
  if (r.states !== undefined) parts.push(`${r.states} states`, `${r.transitions ?? 0} transitions`);
  else parts.push(`${r.steps} steps`);
  if (r.sleepPruned) parts.push(`${r.sleepPruned} moves pruned by sleep sets (${r.sleepBlocked ?? 0} states sleep-blocked)`);
  if (r.deferred) parts.push(`${r.deferred} walks and drains deferred`);
  if (r.strategy === 'dpor') {
    parts.push(`${r.sleepBlocked ?? 0} sleep-set-blocked executions`, `${r.races ?? 0} races`, `${r.replayedSteps ?? 0} steps replayed`);
  }
  parts.push(`${r.elapsedMs} ms`);
  return parts.join(', ');
}

/** What a verdict covers, in words. */
export function coverageText(r: CheckResult): string {
  const b = formatBounds(r.bounds);
  switch (r.verdict) {
    case 'holds': {
      if (r.strategy === 'dpor') return `every interleaving explored, up to reordering of independent steps (${b})`;
      return `every interleaving explored (${b}); fingerprint collision probability <= ${(r.collisionProbability ?? 0).toExponential(1)}`;
    }
    case 'no-violation':
      return `${r.executions} randomized executions found no violation (${b}); this proves nothing by itself`;
    case 'inconclusive':
      if (r.store?.kind === 'bitstate' && r.stop === undefined) {
        const s = r.store;
        return `bitstate search of 2^${Math.log2(s.bits)} bits ran to its end (${b}); hash factor ${(s.bits / Math.max(r.states ?? 1, 1)).toFixed(1)} bits/state, states whose bits were all set already were not explored${r.sleepPruned ? ' (under sleep sets it marks state and sleep-set pairs)' : ''}: not a proof`;
      }
      return `search stopped early: ${r.reason ?? '?'} (${b})`;
    case 'violated':
      return `found by ${strategyText(r)} (${b})`;
  }
}

/** A fingerprint-collision bound above this is printed next to a HOLDS verdict. */
export const COLLISION_WARN = 1e-6;

/** The verdict line's qualifier: interrupted, or a collision bound too large to ignore. */
export function verdictNote(r: CheckResult): string {
  if (r.stop === 'interrupted') return ' (interrupted)';
  if (r.verdict === 'inconclusive' && r.store?.kind === 'bitstate' && r.stop === undefined) return `: ${r.reason ?? 'no violation found (bitstate)'}`;
  const p = r.collisionProbability;
  if (r.verdict === 'holds' && p !== undefined && p > COLLISION_WARN) {
    return ` (fingerprint collision probability ${p.toExponential(1)} > ${COLLISION_WARN.toExponential(0)}: a missed state is possible)`;
  }
  return '';
}

export function checkText(r: CheckResult, ce?: { path: string; reused: boolean }, why?: string): string {
  const lines = [
    `${r.variant} on ${r.scenario} (cpus ${r.cpus}, features ${formatFeatures(r.features)})`,
    `${r.verdict.toUpperCase()}${verdictNote(r)}${r.violation ? ` ${r.violation.invariant}: ${r.violation.message}` : ''}`,
    ...(why === undefined ? [] : [`  why: ${why}`]),
    `  ${coverageText(r)}`,
    `  strategy ${strategyText(r)}, seed ${r.seed}: ${countsText(r)}`,
  ];
  const g = guaranteeText(r);
  if (g) lines.push(`  ${g}`);
  if (ce) {
    lines.push(`  counterexample: ${ce.path}${ce.reused ? ' (already saved)' : ''}`);
    lines.push(`  replay: npx tlbcheck replay ${ce.path}`);
  }
  return lines.join('\n');
}

export function checkJson(r: CheckResult, counterexample?: string): Record<string, unknown> {
  return {
    verdict: r.verdict,
    variant: r.variant,
    scenario: r.scenario,
    cpus: r.cpus,
    features: r.features,
    bounds: { ...boundsToJson(r.bounds), delays: r.delays ?? null, pctDepth: r.guarantee?.depth ?? null },
    invariant: r.violation?.invariant ?? null,
    message: r.violation?.message ?? null,
    reason: r.reason ?? null,
    stop: r.stop ?? null,
    interrupted: r.stop === 'interrupted',
    strategy: r.strategy,
    seed: r.seed,
    executions: r.executions,
    steps: r.steps,
    states: r.states ?? null,
    transitions: r.transitions ?? null,
    collisionProbability: r.collisionProbability ?? null,
    store: r.store ?? null,
    swarm: r.swarm ?? null,
    guarantee: r.guarantee ?? null,
    sleepPruned: r.sleepPruned ?? null,
    sleepBlocked: r.sleepBlocked ?? null,
    deferred: r.deferred ?? null,
    races: r.races ?? null,
    backtracks: r.backtracks ?? null,
    replayedSteps: r.replayedSteps ?? null,
    elapsedMs: r.elapsedMs,
    counterexample: counterexample ?? null,
  };
}

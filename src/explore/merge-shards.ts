/**
 * `tlbcheck merge`: the JSON results of the shards of one swarm (`check --strategy swarm
 * --shard I/N --json`, each run by one CI job) combined into one verdict and one coverage
 * statement. Pure: it takes the files' texts and returns the merged result or a one-line
 * problem; the CLI reads the files and prints.
 *
 * The shards must be one swarm: the same variant, scenario, CPUs, features, seed, member count
 * and shard count, bounds that agree apart from the per-member walks and buffer depth, and each
 * shard index from 1 to N exactly once. The merged verdict is "violated" if any shard found a
 * violation (each is listed, with its counterexample), otherwise "no-violation", which proves
 * nothing by itself; the coverage says how many of the swarm's members ran, and which shards a
 * budget cut short.
 */
import { z } from 'zod';

const shardResult = z.object({
  verdict: z.enum(['violated', 'no-violation']),
  variant: z.string().min(1),
  scenario: z.string().min(1),
  cpus: z.number().int().positive(),
  features: z.record(z.string(), z.boolean()),
  bounds: z.object({ evictions: z.number(), maxSteps: z.number(), preemptions: z.number().nullable() }).passthrough(),
  strategy: z.literal('swarm'),
  seed: z.number().int().nonnegative(),
  invariant: z.string().nullable(),
  message: z.string().nullable(),
  reason: z.string().nullable(),
  stop: z.string().nullable(),
  executions: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  counterexample: z.string().nullable(),
  swarm: z.object({
    shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }),
    first: z.number().int().nonnegative(),
    end: z.number().int().nonnegative(),
    total: z.number().int().positive(),
  }),
});

export type ShardResult = z.infer<typeof shardResult>;

export interface MergedFinding {
  readonly shard: number;
  readonly invariant: string;
  readonly message: string;
  readonly counterexample: string | null;
}

export interface Merged {
  readonly verdict: 'violated' | 'no-violation';
  readonly variant: string;
  readonly scenario: string;
  readonly cpus: number;
  readonly seed: number;
  readonly shards: number;
  /** Members of the whole swarm, and how many ran. */
  readonly members: number;
  readonly ran: number;
  readonly executions: number;
  readonly steps: number;
  /** Shards a budget stopped before their slice was done, with the reason. */
  readonly cut: readonly { readonly shard: number; readonly reason: string }[];
  readonly violations: readonly MergedFinding[];
  /** Wall-clock time of the slowest shard (they run side by side). */
  readonly slowestMs: number;
}

export type MergeOutcome = { readonly ok: true; readonly merged: Merged } | { readonly ok: false; readonly problem: string };

const fail = (problem: string): MergeOutcome => ({ ok: false, problem });

/** Merge shard files given as (name, text). */
export function mergeShards(files: readonly { readonly name: string; readonly text: string }[]): MergeOutcome {
  if (files.length === 0) return fail('no shard files given');
  const shards: { name: string; r: ShardResult }[] = [];
  for (const f of files) {
    let json: unknown;
    try {
      json = JSON.parse(f.text);
    } catch (e) {
      return fail(`${f.name}: malformed JSON (${(e as Error).message.split('\n')[0]})`);
    }
    const parsed = shardResult.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return fail(`${f.name}: not the --json result of check --strategy swarm --shard I/N (${i?.path.join('.') || '(root)'}: ${i?.message ?? '?'})`);
    }
    shards.push({ name: f.name, r: parsed.data });
  }
  const first = shards[0]!;
  const same = (r: ShardResult): string | undefined => {
    const a = first.r;
    if (r.variant !== a.variant) return `variant ${r.variant}, not ${a.variant}`;
    if (r.scenario !== a.scenario) return `scenario ${r.scenario}, not ${a.scenario}`;
    if (r.cpus !== a.cpus) return `cpus ${r.cpus}, not ${a.cpus}`;
    if (JSON.stringify(r.features) !== JSON.stringify(a.features)) return 'other machine features';
    if (r.seed !== a.seed) return `seed ${r.seed}, not ${a.seed}`;
    if (r.swarm.total !== a.swarm.total) return `${r.swarm.total} members, not ${a.swarm.total}`;
    if (r.swarm.shard.count !== a.swarm.shard.count) return `shard count ${r.swarm.shard.count}, not ${a.swarm.shard.count}`;
    if (r.bounds.evictions !== a.bounds.evictions || r.bounds.maxSteps !== a.bounds.maxSteps || r.bounds.preemptions !== a.bounds.preemptions) return 'other bounds';
    return undefined;
  };
  for (const s of shards.slice(1)) {
    const d = same(s.r);
    if (d) return fail(`${s.name}: not a shard of the same swarm as ${first.name} (${d})`);
  }
  const count = first.r.swarm.shard.count;
  const byIndex = new Map<number, string>();
  for (const s of shards) {
    const i = s.r.swarm.shard.index;
    if (i > count) return fail(`${s.name}: shard ${i}/${count} is out of range`);
    const other = byIndex.get(i);
    if (other !== undefined) return fail(`${s.name}: shard ${i}/${count} given twice (also ${other})`);
    byIndex.set(i, s.name);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) return fail(`missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} of the swarm (seed ${first.r.seed}, ${first.r.swarm.total} members)`);
  const ordered = [...shards].sort((a, b) => a.r.swarm.shard.index - b.r.swarm.shard.index);
  const violations: MergedFinding[] = [];
  const cut: { shard: number; reason: string }[] = [];
  let ran = 0;
  let executions = 0;
  let steps = 0;
  let slowestMs = 0;
  for (const { r } of ordered) {
    ran += r.swarm.end - r.swarm.first;
    executions += r.executions;
    steps += r.steps;
    slowestMs = Math.max(slowestMs, r.elapsedMs);
    if (r.verdict === 'violated') violations.push({ shard: r.swarm.shard.index, invariant: r.invariant ?? '?', message: r.message ?? '', counterexample: r.counterexample });
    else if (r.stop !== null) cut.push({ shard: r.swarm.shard.index, reason: r.reason ?? r.stop });
  }
  const a = first.r;
  return {
    ok: true,
    merged: {
      verdict: violations.length > 0 ? 'violated' : 'no-violation',
      variant: a.variant,
      scenario: a.scenario,
      cpus: a.cpus,
      seed: a.seed,
      shards: count,
      members: a.swarm.total,
      ran,
      executions,
      steps,
      cut,
      violations,
      slowestMs,
    },
  };
}

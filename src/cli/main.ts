/**
 * The `tlbcheck` command. The only module that prints, reads the environment or decides exit
 * codes: 0 no violation, 1 violation found or reproduced, 2 bad input, 3 inconclusive or a
 * replay that diverged.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../errors.ts';
import { STRATEGIES } from '../explore/check.ts';
import { BITSTATE_MAX, BITSTATE_MIN } from '../explore/bitstate.ts';
import { runCheck } from './check.ts';
import { type FuzzCliOptions, runFuzz } from './fuzz.ts';
import { type GateOpts, runGate } from './gate.ts';
import { parseShard } from '../gate/shard.ts';
import { runList } from './list.ts';
import { runLitmusFiles } from './litmus.ts';
import { runMerge } from './merge.ts';
import { runMinimize } from './minimize.ts';
import { runReplay } from './replay.ts';
import { runWatched } from './watched.ts';
import { isVariantFile } from '../kernel/load.ts';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** A transient progress line (terminal only; '' clears it). Absent: stay quiet. */
  status?(s: string): void;
}

const stdio: Io = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  ...(process.stderr.isTTY ? { status: (s: string) => process.stderr.write(`\r${s.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`) } : {}),
};

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number, got '${v}'`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}

export function secondsArg(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new InvalidArgumentError(`expected seconds > 0, got '${v}'`);
  return n;
}

export function shardArg(v: string) {
  const s = parseShard(v);
  if (!s) throw new InvalidArgumentError(`expected I/N with 1 <= I <= N, got '${v}'`);
  return s;
}

export interface MainOptions {
  /** Run every command here (inside a supervised worker), not in a worker of its own. */
  readonly direct?: boolean;
}

function program(io: Io, code: { value: number }, argv: readonly string[], opts: MainOptions): Command {
  // A command that runs a user's routines (a variant file) goes to a watched worker thread
  // (supervise.ts); on built-in variants it runs here, which saves the worker's start-up.
  const watched = (variant: unknown, stall: unknown, run: () => Promise<number>): Promise<number> =>
    opts.direct || typeof variant !== 'string' || !isVariantFile(variant) ? run() : runWatched(io, argv, typeof stall === 'number' ? stall * 1000 : undefined);
  const cmd = new Command('tlbcheck')
    .description('Model checker for the Linux x86 TLB-shootdown protocol')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError(false);

  cmd
    .command('list')
    .description('list the variants, scenarios and invariants')
    .option('--json', 'one JSON object')
    .action(async (o: { json?: boolean }) => {
      code.value = await runList(io, o.json === true);
    });

  cmd
    .command('check')
    .description('explore a variant on a scenario and report the verdict')
    .requiredOption('--variant <id|path>', 'built-in variant id, a .ts file exporting a variant, or a .c file')
    .option('--base <generation>', 'for a .c file without a tlbcheck header (a whole kernel tlb.c): the C generation to check it on')
    .requiredOption('--scenario <id|file>', 'scenario id (see tlbcheck list) or a scenario file (a path ending in .json)')
    .option('--cpus <n>', 'number of CPUs', intArg(1, 8))
    .option('--mms <n>', 'user mms, for scenarios with that parameter (see tlbcheck list)', intArg(1, 8))
    .option('--ops <n>', 'operations per CPU, for scenarios with that parameter (see tlbcheck list)', intArg(1, 8))
    .addOption(new Option('--strategy <name>', 'search strategy').choices([...STRATEGIES]).default('dfs'))
    .option('--depth <d>', 'PCT bug depth (default 3)', intArg(1, 10))
    .option('--delays <k>', 'delay-bounding: deviations per run (default 2)', intArg(0, 100))
    .option('--workers <n>', 'dfs: split the stateful search over n worker threads sharing its visited table', intArg(1, 64), 1)
    .option('--shard <i/n>', 'swarm: run only the i-th of n deterministic, disjoint slices of the members (see tlbcheck merge)', shardArg)
    .option('--seed <n>', 'seed of randomized strategies', intArg(0), 1)
    .option('--max-executions <n>', 'execution budget', intArg(1))
    .option('--time <seconds>', 'time budget', secondsArg)
    .option('--walks <n>', 'speculative walks per CPU (default unbounded)', intArg(0))
    .option('--sb-depth <n>', 'store-buffer depth', intArg(1, 16))
    .option('--evictions <n>', 'spontaneous TLB/PSC evictions per CPU', intArg(0, 8))
    .option('--preemptions <n>', 'bound on non-default choices (dfs)', intArg(0))
    .option('--max-steps <n>', 'steps per execution', intArg(1))
    .option('--max-states <n>', 'distinct-state budget (dfs, bfs): reaching it is inconclusive', intArg(1))
    .option('--max-memory <mb>', 'heap budget in MiB: reaching it is inconclusive (default: half the machine, at most 16384)', intArg(64))
    .option('--max-step-effects <n>', 'effects a routine may run inside one step before it is reported as a spin loop', intArg(1), 10000)
    .option('--stall <seconds>', 'a routine that runs this long without yielding an effect is reported', secondsArg, 10)
    .option('--stateless', 'dfs by re-execution, without state caching')
    .option('--bitstate <b>', `dfs, bfs: bitstate (supertrace) visited set of 2^b bits (${BITSTATE_MIN}..${BITSTATE_MAX}) for state spaces beyond memory; never proves "holds"`, intArg(BITSTATE_MIN, BITSTATE_MAX))
    .option('--no-por', 'turn off sleep-set partial-order reduction (dfs)')
    .option('--no-defer', 'take every speculative walk and store-buffer drain where it is enabled, also where nothing conflicts with it (dfs)')
    .option('--features <list>', 'machine features, e.g. pcid,-invpcid,pti')
    .option('--out <dir>', 'where to save counterexamples', 'out')
    .option('--no-minimize', 'save the counterexample as found, without minimizing it')
    .option('--json', 'one JSON object')
    .action(async (o: Record<string, unknown>) => {
      code.value = await runCheck(io, o);
    });

  cmd
    .command('minimize')
    .description('shrink a saved counterexample while the same invariant stays violated')
    .argument('<file>', 'counterexample JSON')
    .option('--out <dir>', 'where to save the minimized counterexample (default: next to FILE)')
    .option('--variant <path>', 'the variant file it was found on (never taken from the file itself)')
    .option('--json', 'one JSON object')
    .option('--stall <seconds>', 'a routine that runs this long without yielding an effect is reported', secondsArg, 10)
    .action(async (file: string, o: { out?: string; json?: boolean; variant?: string; stall?: number }) => {
      code.value = await watched(o.variant, o.stall, () => runMinimize(io, file, o));
    });

  cmd
    .command('replay')
    .description('replay a saved counterexample and print its per-CPU trace')
    .argument('<file>', 'counterexample JSON')
    .option('--variant <id|path>', 'replay the tape on another variant')
    .option('--html <file>', 'also write the timeline as a self-contained HTML page')
    .option('--scenario <id|file>', 'check that the counterexample was found on this scenario (a file must equal the one sealed in it)')
    .option('--json', 'one JSON object')
    .option('--stall <seconds>', 'a routine that runs this long without yielding an effect is reported', secondsArg, 10)
    .action(async (file: string, o: { variant?: string; json?: boolean; html?: string; scenario?: string; stall?: number }) => {
      code.value = await watched(o.variant, o.stall, () => runReplay(io, file, o));
    });

  cmd
    .command('fuzz')
    .description('fast-check: generated scenarios and choice tapes against "the variant never violates any invariant"')
    .requiredOption('--variant <id|path>', 'built-in variant id or a .ts file exporting a variant')
    .option('--seed <n>', "fast-check's seed", intArg(0), 1)
    .option('--runs <n>', 'generated scenario/tape pairs to try', intArg(1), 1000)
    .option('--path <path>', "fast-check's path of a failure to replay (printed by a failing run)")
    .option('--scenario <id|file>', 'fuzz the choice tapes of this scenario instead of generated scenarios')
    .option('--out <dir>', 'where to save counterexamples', 'out')
    .option('--json', 'one JSON object')
    .option('--stall <seconds>', 'a routine that runs this long without yielding an effect is reported', secondsArg, 10)
    .action(async (o: FuzzCliOptions & { stall?: number }) => {
      code.value = await watched(o.variant, o.stall, () => runFuzz(io, o));
    });

  cmd
    .command('gate')
    .description('run the gate manifest: every variant against its expected verdicts and pinned counts')
    .option('--variant <id|path...>', "only these built-in variants; a .ts file runs over every row its base holds on")
    .option('--time <seconds>', 'time budget per row', secondsArg)
    .option('--json', 'one JSON object { rows, summary }')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--shard <i/n>', 'run only the i-th of n deterministic slices of the rows', shardArg)
    .option('--workers <n>', 'worker threads', intArg(1, 64), 1)
    .option('--out <dir>', 'where to save counterexamples of mismatches', 'out/gate')
    .option('--manifest <file>', 'the manifest to run (default: gate/manifest.json of this package)')
    .option('--scenario <id|file>', "only the rows of this built-in scenario; a scenario file runs its own expect lines (and each --variant)")
    .option('--update-pins', "regenerate the manifest from the variants' expect lists")
    .option('--seed <n>', 'seed of the random probes behind the progress estimate', intArg(0), 1)
    .option('--stall <seconds>', 'a routine that runs this long without yielding an effect is reported', secondsArg, 10)
    .action(async (o: GateOpts) => {
      code.value = await runGate(io, o);
    });

  cmd
    .command('merge')
    .description("combine the --json results of a swarm's shards (check --strategy swarm --shard I/N) into one verdict")
    .argument('<files...>', 'shard result files')
    .option('--json', 'one JSON object')
    .action((files: string[], o: { json?: boolean }) => {
      code.value = runMerge(io, files, o);
    });

  cmd
    .command('litmus')
    .description('run herd7-syntax x86 litmus tests (and translation litmus tests) on the machine model')
    .argument('<files...>', 'litmus files')
    .action((files: string[]) => {
      code.value = runLitmusFiles(io, files);
    });
  return cmd;
}

export async function main(argv: readonly string[], io: Io = stdio, opts: MainOptions = {}): Promise<number> {
  const code = { value: 0 };
  try {
    await program(io, code, argv, opts).parseAsync([...argv], { from: 'user' });
    return code.value;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'commander.executeSubCommandAsync') return 2;
      // commander has already printed its one-line message
      return 2;
    }
    if (e instanceof UserError) {
      io.err(`tlbcheck: ${e.message}`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`tlbcheck: ${msg.startsWith('[tlbcheck bug]') ? msg : `[tlbcheck bug] ${msg}`}`);
    if (process.env['TLBCHECK_DEBUG'] && e instanceof Error) io.err(e.stack ?? '');
    return 70;
  }
}

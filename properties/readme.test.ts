/**
 * The README cannot drift: every command it shows with its output (a ```console block, lines
 * starting with `$ `) is run here, and the shown output must appear in the real output, in
 * order. `...` (or `…`) in the shown output skips real output; line breaks and runs of spaces
 * are not compared (the README wraps long lines), and durations (`34 ms`, `4.0 s`) are not
 * either. Everything else is: verdict lines, step numbers, counts, paths.
 *
 * A command that saves files gets `--out` in a temp folder (shown in the output as the default
 * `out/` or `out/gate/`), so a run never writes into the repository. Shell instructions with
 * no shown output (```sh: `npm ci`, `npm test`, `npm run bench`) and the CI workflow (```yaml)
 * are not run; any other block that shows a `$ ` prompt or an `npx tlbcheck` line fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  readonly lang: string;
  readonly line: number;
  readonly lines: readonly string[];
}

/** The fenced blocks of a markdown text, with their indentation removed. */
export function fencedBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^ *```\s*$/.test(lines[j]!)) body.push(lines[j++]!.slice(indent));
    out.push({ lang: open[2]!, line: i + 1, lines: body });
    i = j;
  }
  return out;
}

interface Shown {
  readonly command: string;
  readonly line: number;
  readonly output: string;
}

export function commandsOf(b: Block): Shown[] {
  const out: { command: string; line: number; output: string[] }[] = [];
  b.lines.forEach((l, k) => {
    if (l.startsWith('$ ')) out.push({ command: l.slice(2), line: b.line + 1 + k, output: [] });
    else out[out.length - 1]?.output.push(l);
  });
  return out.map((c) => ({ ...c, output: c.output.join('\n') }));
}

/** Words of a shell command line: plain words and double-quoted strings. */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const OUT_DEFAULT: Record<string, string> = { check: 'out', fuzz: 'out', gate: join('out', 'gate') };

/** Run a README command in-process; paths printed under the temp `--out` read as the defaults. */
async function run(command: string): Promise<string> {
  const w = words(command);
  let argv: string[];
  if (w[0] === 'npx' && w[1] === 'tlbcheck') argv = w.slice(2);
  else if (command === 'npm start') argv = ['gate'];
  else throw new Error(`the README shows a command this test cannot run: ${command}`);
  // Files named relative to the clone (counterexamples/..., ./examples/...) are passed absolute.
  argv = argv.map((a) => (!a.startsWith('-') && /[/.]/.test(a) && existsSync(join(ROOT, a)) ? join(ROOT, a) : a));
  const tmp = tempDir();
  const sub = argv[0] ?? '';
  if (OUT_DEFAULT[sub] !== undefined && !argv.includes('--out')) argv.push('--out', join(tmp, OUT_DEFAULT[sub]));
  const r = await cli(...argv);
  return `${r.out}\n${r.err}`.split(`${tmp}/`).join('').split(`${ROOT}/`).join('');
}

const norm = (s: string): string =>
  s
    .replace(/\b\d+(?:\.\d+)?\s?(?:ms|s)\b/g, '<time>')
    .replace(/\s+/g, ' ')
    .trim();

/** The first piece of the shown output that the real output lacks (in order), or undefined. */
export function shownMismatch(shown: string, real: string): string | undefined {
  const have = norm(real);
  let at = 0;
  for (const piece of shown.split(/\.\.\.|…/).map(norm)) {
    if (piece === '') continue;
    const i = have.indexOf(piece, at);
    if (i < 0) return piece;
    at = i + piece.length;
  }
  return undefined;
}

const blocks = fencedBlocks(README);
const shown = blocks.filter((b) => b.lang === 'console').flatMap(commandsOf);

describe('README commands and their shown output', () => {
  it('the README shows commands with output, each in a console block', () => {
    expect(shown.length).toBeGreaterThanOrEqual(9);
    for (const b of blocks.filter((x) => x.lang !== 'console' && x.lang !== 'yaml')) {
      const prompt = b.lines.find((l) => l.startsWith('$ ') || /^npx tlbcheck /.test(l));
      expect(prompt, `README.md:${b.line}: a command in a \`\`\`${b.lang} block (make it a console block with its output)`).toBeUndefined();
    }
    for (const c of shown) expect(c.output.trim(), `README.md:${c.line}: ${c.command} shows no output`).not.toBe('');
  });

  for (const c of shown) {
    it(`README.md:${c.line}: ${c.command}`, async () => {
      const real = await run(c.command);
      const missing = shownMismatch(c.output, real);
      expect(missing, `shown in README.md:${c.line} but not in the real output:\n${missing}\n--- real output ---\n${real}`).toBeUndefined();
    });
  }

  it('the comparison fails on drift: a changed step number, a changed verdict, a reordered line', async () => {
    const c = shown.find((x) => x.command.startsWith('npx tlbcheck check --variant linux-4.13-flush-no-mb --scenario switch-vs-flush'))!;
    const real = await run(c.command);
    expect(shownMismatch(c.output, real)).toBeUndefined();
    expect(shownMismatch(c.output.replace('filled at step 9', 'filled at step 11'), real)).toMatch(/step 11/);
    expect(shownMismatch(c.output.replace('VIOLATED', 'HOLDS'), real)).toMatch(/HOLDS/);
    const [first, second] = c.output.split('\n');
    expect(shownMismatch([second, first].join('\n'), real)).toBeDefined();
    expect(shownMismatch(c.output.replace('out/linux', 'counterexamples/linux'), real)).toMatch(/counterexamples\//);
  });
});

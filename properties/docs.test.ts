/**
 * Citations stay inside the repository. Source headers, the examples and the README name the
 * seeds as `seed NNN`, and each one is defined in docs/seeds.md (and each defined one is
 * used); every `docs/...` page they cite exists; and nothing in src/ or docs/ cites a path
 * outside the repository (a notes folder, a design file the repository does not have, the
 * project's shared folder). Shown to fail on a text that breaks each rule.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SEEDS = readFileSync(join(ROOT, 'docs', 'seeds.md'), 'utf8');
const defined = new Set([...SEEDS.matchAll(/^## seed (\d{3})\b/gm)].map((m) => m[1]!));

function sources(dir: string, ext: RegExp): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).map(String).filter((f) => ext.test(f)).map((f) => join(dir, f));
}
const cited = [...sources('src', /\.ts$/), ...sources('examples', /\.ts$/), 'README.md'];
const docs = sources('docs', /\.md$/);

/** The seed numbers a text cites: `seed 004`, `seeds 000 and 001`. */
export function seedsCited(text: string): string[] {
  return [...text.matchAll(/\bseeds? (\d{3})(?: and (\d{3}))?/gi)].flatMap((m) => [m[1]!, ...(m[2] ? [m[2]] : [])]);
}

/** Citations of paths outside the repository. */
export function outsidePaths(text: string): string[] {
  // A machine's work folder, a notes folder, the design brief and shared folder of the project.
  return [...text.matchAll(/(?:^|\s|\()[/]work[/]\S*|\bnotes[/]\S+\.md|\bDESIGN\.md\b|\.\.[/]shared[/]\S*/g)].map((m) => m[0].trim().replace(/^\(/, ''));
}

describe('citations', () => {
  it('every cited seed is defined in docs/seeds.md, and every defined seed is cited', () => {
    expect([...defined].sort()).toEqual(['000', '001', '002', '003', '004']);
    const used = new Set<string>();
    for (const f of cited) {
      for (const n of seedsCited(readFileSync(join(ROOT, f), 'utf8'))) {
        expect(defined.has(n), `${f} cites seed ${n}, which docs/seeds.md does not define`).toBe(true);
        used.add(n);
      }
    }
    expect([...used].sort()).toEqual([...defined].sort());
  });

  it('every docs/ page cited from the sources or the README exists', () => {
    for (const f of cited) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/\bdocs\/[\w.-]+\.(?:md|png)/g)) {
        expect(existsSync(join(ROOT, m[0])), `${f} cites ${m[0]}`).toBe(true);
      }
    }
  });

  it('nothing in src/ or docs/ cites a path outside the repository', () => {
    const found = [...cited.filter((f) => f !== 'README.md'), ...docs].flatMap((f) => outsidePaths(readFileSync(join(ROOT, f), 'utf8')).map((p) => `${f}: ${p}`));
    expect(found).toEqual([]);
  });

  it('the rules catch a breach (an undefined seed, a notes folder, a design file from elsewhere)', () => {
    expect(seedsCited('seed 007; seeds 000 and 003').sort()).toEqual(['000', '003', '007']);
    expect(defined.has('007')).toBe(false);
    const machinePath = ['', 'work', 'notes', 'kernel.md'].join('/');
    const text = [`Sources: ${machinePath} section 4`, 'Semantics (DESIGN.md)', 'see notes/kernel-4.12.md', 'in ../shared/anchors/spin'].join('\n');
    expect(outsidePaths(text)).toEqual([machinePath, 'DESIGN.md', 'notes/kernel-4.12.md', '../shared/anchors/spin']);
  });
});

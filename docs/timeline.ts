/**
 * Regenerates the README's timeline example from a stored counterexample:
 * - the README block between `<!-- timeline:replay:begin -->` and `<!-- timeline:replay:end -->`
 *   (the `tlbcheck replay` output, its "why" line included);
 * - the picture docs/timeline-cr3-before-cpumask.png, a screenshot of the `--html` page in
 *   headless Chromium at 1400 px, and docs/timeline-cr3-before-cpumask.sha256, the digest of
 *   the page it shows. PNG bytes depend on the browser and its fonts, so staleness is judged
 *   by the page's digest, not the image's.
 *
 *   npm run docs:timeline              # rewrite the README block, the picture and its digest
 *   npm run docs:timeline -- --check   # exit 1 if any of them is stale (no browser needed)
 *
 * Options `--readme FILE` and `--digest FILE` point at other copies (the test uses them).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '..');
const CE = 'counterexamples/linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json';
const PNG = join(ROOT, 'docs', 'timeline-cr3-before-cpumask.png');
const BEGIN = '<!-- timeline:replay:begin -->';
const END = '<!-- timeline:replay:end -->';
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

async function run(...argv: string[]): Promise<string> {
  const out: string[] = [];
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    await main(argv, { out: (s) => out.push(s), err: (s) => out.push(s) });
  } finally {
    process.chdir(cwd);
  }
  return out.join('\n');
}

function block(replayText: string): string {
  return `${BEGIN}\n\`\`\`console\n$ npx tlbcheck replay ${CE}\n${replayText}\n\`\`\`\n${END}`;
}

function withBlock(readme: string, b: string): string {
  const i = readme.indexOf(BEGIN);
  const j = readme.indexOf(END);
  if (i < 0 || j < i) throw new Error(`README has no ${BEGIN} ... ${END} block`);
  return readme.slice(0, i) + b + readme.slice(j + END.length);
}

const check = process.argv.includes('--check');
const readmePath = arg('--readme', join(ROOT, 'README.md'));
const digestPath = arg('--digest', join(ROOT, 'docs', 'timeline-cr3-before-cpumask.sha256'));
const dir = mkdtempSync(join(tmpdir(), 'tlbcheck-docs-'));
try {
  const html = join(dir, 'timeline.html');
  const text = await run('replay', CE);
  await run('replay', CE, '--html', html);
  const page = readFileSync(html, 'utf8');
  const digest = `sha256:${createHash('sha256').update(page).digest('hex')}`;
  const readme = readFileSync(readmePath, 'utf8');
  const fresh = withBlock(readme, block(text));
  if (check) {
    const stale: string[] = [];
    if (fresh !== readme) stale.push(`${relative(ROOT, readmePath)} (its replay example differs from what tlbcheck prints now)`);
    const recorded = existsSync(digestPath) ? readFileSync(digestPath, 'utf8').trim() : '(none)';
    if (recorded !== digest) stale.push(`${relative(ROOT, PNG)} (it shows a page with digest ${recorded.slice(0, 19)}…, the page is now ${digest.slice(0, 19)}…)`);
    if (stale.length > 0) {
      console.error(`stale: ${stale.join('; ')}. Run: npm run docs:timeline`);
      process.exitCode = 1;
    } else {
      console.log('README timeline example and picture are up to date');
    }
  } else {
    if (!CHROMIUM) throw new Error('no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await p.goto(`file://${html}`);
      await p.screenshot({ path: PNG, fullPage: true });
    } finally {
      await browser.close();
    }
    writeFileSync(digestPath, `${digest}\n`);
    writeFileSync(readmePath, fresh);
    console.log(`wrote ${relative(ROOT, PNG)}, ${relative(ROOT, digestPath)} and the README block`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The timeline view: the terminal trace names the stale entry and the violation; the HTML page
 * is self-contained (no fetch of any kind), never overwrites a file, and renders in a real
 * headless Chromium (Debian's `chromium`, driven by playwright-core) with one lane per CPU and
 * hardware actor, the arrows, the stale band and the violation marker; a screenshot is saved
 * to a temp dir. Without a Chromium the browser test is skipped with the reason printed.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';
import { driveTape } from '../src/counterexample/drive.ts';
import { prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { buildTimeline } from '../src/report/timeline.ts';
import { renderHtml } from '../src/report/html.ts';

const CE = join(import.meta.dirname, '..', 'counterexamples', 'linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json');
/** Where the stored counterexample fills its stale entry and uses it (from its own trace). */
const CE_STEPS = ((): { fill: number; use: number } => {
  const ce = JSON.parse(readFileSync(CE, 'utf8')) as { message: string; trace: { step: number; text: string }[] };
  const fill = Number(/filled at step (\d+)/.exec(ce.message)?.[1]);
  const use = ce.trace.filter((e) => e.text.startsWith('user read')).at(-1)?.step;
  if (!fill || use === undefined) throw new Error('counterexample without a fill or use step');
  return { fill, use };
})();
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function page(): Promise<string> {
  const out = join(tempDir(), 'timeline.html');
  const r = await cli('replay', CE, '--html', out);
  expect(r.code).toBe(1);
  return out;
}

describe('timeline view', () => {
  it('the terminal trace marks the stale fill, its use, the violation and the invariant in words', async () => {
    const r = await cli('replay', CE);
    expect(r.out).toMatch(/\[walk\] speculative walk of va 0x1000.*\n.*\n.*STALE ENTRY FILLED HERE/);
    expect(r.out).toContain(`STALE ENTRY (filled at step ${CE_STEPS.fill})`);
    expect(r.out).toContain('!! VIOLATION no-stale-tlb-use');
    expect(r.out).toContain('invariant: once a flush covering a changed PTE has returned');
  });

  it('a flush IPI gets an arrow from its send to its delivery, and every buffered store one to where it became visible', () => {
    const v = findVariant('linux-4.13')!;
    const model = prepare({ variant: v, scenario: findScenario('lazy-flush')!, params: { cpus: 2 }, features: v.features, bounds: DEFAULT_BOUNDS });
    const d = driveTape(model, [], true);
    const tl = buildTimeline(d.trace!, 2);
    const ipi = tl.arrows.filter((a) => a.kind === 'ipi');
    expect(ipi).toHaveLength(1);
    expect(tl.rows[ipi[0]!.from]!.ev).toMatchObject({ cpu: 0, actor: 'cpu' });
    expect(tl.rows[ipi[0]!.to]!.ev).toMatchObject({ cpu: 1, actor: 'ipi' });
    expect(tl.unseen).toEqual([]);
    expect(tl.arrows.filter((a) => a.kind === 'store').length).toBe(tl.rows.filter((r) => r.ev.text.endsWith('(buffered)')).length);
    expect(renderHtml(tl, { title: 't', facts: [] })).toContain('class="arrow arrow-ipi"');
  });

  it('the page is self-contained: no script, stylesheet, image or frame is fetched', async () => {
    const html = readFileSync(await page(), 'utf8');
    expect(html).not.toMatch(/(src|href)\s*=|@import|url\((?!#)|https?:/i);
    expect(html).toContain('class="violation-marker"');
    expect(html).toContain('set_pte_at');
    expect(html).toContain('load_cr3(next-&gt;pgd) BEFORE the cpumask bit');
  });

  it('--html never overwrites a file', async () => {
    const f = join(tempDir(), 'mine.html');
    writeFileSync(f, 'my notes');
    const r = await cli('replay', CE, '--html', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists/);
    expect(readFileSync(f, 'utf8')).toBe('my notes');
  });

  if (!CHROMIUM) {
    console.warn('timeline browser test skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
  }
  it.skipIf(!CHROMIUM)('renders in headless Chromium: lanes, arrows, stale band, violation marker; screenshot saved', async () => {
    const { chromium } = await import('playwright-core');
    const file = await page();
    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ARGS });
    try {
      const p = await browser.newPage({ viewport: { width: 1800, height: 1000 } });
      const fetched: string[] = [];
      p.on('request', (req) => {
        if (!req.url().startsWith('file:')) fetched.push(req.url());
      });
      await p.goto(pathToFileURL(file).href);
      expect(await p.locator('.lane').count()).toBe(2 * 4);
      for (const lane of ['program', 'sb', 'walker', 'ipi']) expect(await p.locator(`.lane[data-cpu="1"][data-lane="${lane}"]`).count()).toBe(1);
      await expect.poll(() => p.locator('#violation').isVisible()).toBe(true);
      expect(await p.locator('.stale').isVisible()).toBe(true);
      expect(await p.locator('.bad-use').getAttribute('data-step')).toBe(String(CE_STEPS.use));
      expect(await p.locator('.stale-fill').getAttribute('data-step')).toBe(String(CE_STEPS.fill));
      expect(await p.locator('path.arrow-store').count()).toBeGreaterThan(0);
      expect(await p.locator('.invariant').innerText()).toContain('no-stale-tlb-use');
      const box = await p.locator('#violation').boundingBox();
      expect(box && box.width > 0 && box.height > 0).toBe(true);
      const shot = join(tempDir(), 'timeline.png');
      await p.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      console.log(`timeline screenshot: ${shot}`);
      expect(fetched).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

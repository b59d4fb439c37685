/**
 * The timeline view: the terminal trace names the stale entry, the race and the violation; the
 * HTML page is self-contained (no fetch of any kind) and never overwrites a file; and in a real
 * headless Chromium (Debian's `chromium`, driven by playwright-core) at 1400 px, for a 2-CPU
 * and a 3-CPU counterexample and one whose stale entry dates from boot, the page fits the
 * window, has lanes only for actors that act, keeps the CPU headers on screen while scrolling,
 * clips no label, folds steps compactly, labels hardware events by their actor with PTEs as
 * pfns, draws the race and the IPI that was not sent, bands the stale entry (from a "cached at
 * boot" marker when it has no fill), and opens with the why. Screenshots go to
 * out/timeline/ for review. Without a Chromium the browser tests are skipped with the reason.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.ts';
import { driveTape } from '../src/counterexample/drive.ts';
import { prepare } from '../src/explore/engine.ts';
import { findVariant } from '../src/kernel/index.ts';
import { DEFAULT_BOUNDS } from '../src/machine/types.ts';
import { findScenario } from '../src/scenario/index.ts';
import { annotate, buildTimeline } from '../src/report/timeline.ts';
import { loadCounterexample, replay } from '../src/counterexample/counterexample.ts';
import { renderHtml } from '../src/report/html.ts';
import { EXPLANATIONS } from './explanations.ts';

const ROOT = join(import.meta.dirname, '..');
const CES = join(ROOT, 'counterexamples');
const CR3 = 'linux-4.13-cr3-before-cpumask--switch-vs-flush-c2--no-stale-tlb-use.json';
const BOOT = 'linux-4.14-partial-on-gen-skip--concurrent-flushes-c2--no-stale-tlb-use.json';
const CE = join(CES, CR3);
/** Where the stored counterexample fills its stale entry and uses it (from its own trace). */
const CE_STEPS = ((): { fill: number; use: number } => {
  const ce = JSON.parse(readFileSync(CE, 'utf8')) as { message: string; trace: { step: number; text: string }[] };
  const fill = Number(/filled at step (\d+)/.exec(ce.message)?.[1]);
  const use = ce.trace.filter((e) => e.text.startsWith('user read')).at(-1)?.step;
  if (!fill || use === undefined) throw new Error('counterexample without a fill or use step');
  return { fill, use };
})();
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SHOTS = join(ROOT, 'out', 'timeline');

async function page(file: string): Promise<string> {
  const out = join(tempDir(), 'timeline.html');
  const r = await cli('replay', file, '--html', out);
  expect(r.code).toBe(1);
  return out;
}

describe('timeline view', () => {
  it('the terminal trace opens with the why and marks the stale fill, the race, the missing IPI, the use and the violation', async () => {
    const r = await cli('replay', CE);
    expect(r.out.split('\n')[1]).toBe(`why: ${EXPLANATIONS[CR3]}`);
    expect(r.out).toMatch(/\[walk\] speculative walk of va 0x1000[^]*?STALE ENTRY FILLED HERE/);
    expect(r.out).toContain(`STALE ENTRY (filled at step ${CE_STEPS.fill})`);
    // Read unwrapped: the race and the missing IPI are marked on cpu0's mask read at step 7.
    const out = replay(loadCounterexample(CE), findVariant('linux-4.13-cr3-before-cpumask')!, true);
    if (out.kind !== 'violated') throw new Error('no violation');
    const marked = annotate(buildTimeline(out.trace, 2, out.violation)).find((e) => e.step === 7 && e.text.startsWith('load mmA.cpumask'));
    expect(marked?.text).toContain("<~ RACE: missed cpu1's write of step 8 (came later)");
    expect(marked?.text).toContain('xx NO IPI to cpu1');
    expect(r.out).toContain('[drain] pte(mmA, va 0x1000) = pfn 5 visible');
    expect(r.out).toContain('!! VIOLATION no-stale-tlb-use');
    expect(r.out).toContain('invariant: once a flush covering a changed PTE has returned');
  });

  it('an entry cached at boot is marked as such in the terminal trace', async () => {
    const r = await cli('replay', join(CES, BOOT));
    expect(r.out).toContain('<== STALE ENTRY (cached at boot) USED');
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
    // Lanes only for the actors that act: no walker acted here.
    expect(tl.lanes.every((l) => !l.includes('walker'))).toBe(true);
    expect(renderHtml(tl, { title: 't', facts: [] })).toContain('class="arrow arrow-ipi"');
  });

  it('the page is self-contained: no script, stylesheet, image or frame is fetched', async () => {
    const html = readFileSync(await page(CE), 'utf8');
    expect(html).not.toMatch(/(src|href)\s*=|@import|url\((?!#)|https?:|<script/i);
    expect(html).toContain('class="violation-marker"');
    expect(html).toContain('set_pte_at');
    expect(html).toContain('BEFORE the cpumask bit: breaks (1)');
  });

  it('--html never overwrites a file', async () => {
    const f = join(tempDir(), 'mine.html');
    writeFileSync(f, 'my notes');
    const r = await cli('replay', CE, '--html', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists/);
    expect(readFileSync(f, 'utf8')).toBe('my notes');
  });
});

if (!CHROMIUM) {
  console.warn('timeline browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
}

describe.skipIf(!CHROMIUM)('the timeline in headless Chromium at 1400 px', () => {
  /**
   * A 3-CPU counterexample where every CPU acts, with store buffers and IPIs on all three:
   * found unminimized (the minimizer would drop the third CPU).
   */
  let three = '';
  beforeAll(async () => {
    const dir = tempDir();
    const r = await cli('check', '--variant', 'linux-4.14-partial-on-gen-skip', '--scenario', 'concurrent-flushes', '--cpus', '3', '--no-minimize', '--out', dir);
    expect(r.code).toBe(1);
    three = join(dir, readdirSync(dir)[0]!);
  }, 120_000);

  const CASES = [
    { name: '2 CPUs, race and missing IPI', file: () => CE, cpus: 2, shot: 'cr3-before-cpumask-2cpu', why: `Why: ${EXPLANATIONS[CR3]!.replaceAll(' -> ', ' \u2192 ')}` },
    { name: '3 CPUs', file: () => three, cpus: 3, shot: 'concurrent-flushes-3cpu', why: 'but invalidated nothing for va 0x1000' },
    { name: '2 CPUs, stale entry from boot', file: () => join(CES, BOOT), cpus: 2, shot: 'concurrent-flushes-boot', why: `Why: ${EXPLANATIONS[BOOT]!.replaceAll(' -> ', ' \u2192 ')}` },
  ];

  for (const c of CASES) {
    it(`${c.name}: fits, lanes, sticky headers, no clipping, compact folds, labels, race, bands, why; screenshot saved`, async () => {
      const { chromium } = await import('playwright-core');
      const file = await page(c.file());
      const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ARGS });
      try {
        const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const fetched: string[] = [];
        p.on('request', (req) => {
          if (!req.url().startsWith('file:')) fetched.push(req.url());
        });
        await p.goto(pathToFileURL(file).href);
        const m = await p.evaluate(() => {
          const boxes = [...document.querySelectorAll<HTMLElement>('.ev')];
          const lanesOf = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)].map((e) => `${e.dataset['cpu']}:${e.dataset['lane']}`);
          // Gaps between consecutive boxes of one folded step, in the same CPU.
          const gaps: number[] = [];
          for (let i = 1; i < boxes.length; i++) {
            const a = boxes[i - 1]!;
            const b = boxes[i]!;
            if (a.dataset['step'] === b.dataset['step'] && a.dataset['cpu'] === b.dataset['cpu']) {
              gaps.push(b.getBoundingClientRect().top - a.getBoundingClientRect().bottom);
            }
          }
          return {
            pageWidth: document.documentElement.scrollWidth,
            clipped: boxes.filter((e) => e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1).map((e) => e.innerText),
            lanes: lanesOf('.lane'),
            acting: [...new Set(lanesOf('.ev'))],
            gaps,
            cpuTitles: document.querySelectorAll('.cpu-title').length,
          };
        });
        expect(m.pageWidth).toBeLessThanOrEqual(1400);
        expect(m.cpuTitles).toBe(c.cpus);
        expect(m.clipped).toEqual([]);
        // Lanes only for actors that act (the IPI lane of the CPU that got no IPI holds its marker).
        const noIpiTo = (await p.locator('.no-ipi').count()) > 0 ? await p.locator('.no-ipi').getAttribute('data-to') : null;
        const expected = new Set([...m.acting, ...Array.from({ length: c.cpus }, (_, k) => `${k}:program`), ...(noIpiTo === null ? [] : [`${noIpiTo}:ipi`])]);
        expect(new Set(m.lanes)).toEqual(expected);
        expect(Math.max(...m.gaps)).toBeLessThanOrEqual(3);
        // Hardware events are labelled by their actor, with PTE values as pfns.
        for (const [cls, actor] of [['actor-drain', 'store-buffer drain'], ['actor-walk', 'walker'], ['actor-ipi', 'IPI delivery']] as const) {
          for (const t of await p.locator(`.ev.${cls} .actor`).allInnerTexts()) expect(t.toLowerCase()).toBe(actor.toLowerCase());
        }
        for (const t of await p.locator('.ev.actor-drain').allInnerTexts()) {
          if (t.includes('pte(')) expect(t).toMatch(/= (pfn \d+|not present) visible/);
        }
        // The why opens the page.
        await expect.poll(() => p.locator('#why').isVisible()).toBe(true);
        expect(await p.locator('#why').innerText()).toContain(c.why);
        expect(await p.locator('.invariant').innerText()).toContain('no-stale-tlb-use');
        await expect.poll(() => p.locator('#violation').isVisible()).toBe(true);
        expect(await p.locator('.stale').isVisible()).toBe(true);
        if (c.file() === CE) {
          // The race: from cpu0's mask read (step 7) to cpu1's lock bts (step 8) that it missed.
          const race = p.locator('path.arrow-race').first();
          const from = await race.getAttribute('data-from');
          const to = await race.getAttribute('data-to');
          expect(await p.locator(`.ev[data-row="${from}"]`).getAttribute('data-step')).toBe('7');
          expect(await p.locator(`.ev[data-row="${to}"]`).getAttribute('data-step')).toBe('8');
          expect(await p.locator('.no-ipi').innerText()).toContain('no IPI from cpu0');
          expect(await p.locator('.bad-use').getAttribute('data-step')).toBe(String(CE_STEPS.use));
          expect(await p.locator('.stale-fill').getAttribute('data-step')).toBe(String(CE_STEPS.fill));
          expect(await p.locator('path.arrow-store').count()).toBeGreaterThan(0);
        }
        if (c.file().endsWith(BOOT)) {
          expect(await p.locator('.stale').getAttribute('data-fill')).toBe('boot');
          expect(await p.locator('.boot-marker').innerText()).toBe('cached at boot');
          expect(await p.locator('path.arrow-ipi').count()).toBeGreaterThan(0);
        }
        mkdirSync(SHOTS, { recursive: true });
        const shot = join(SHOTS, `${c.shot}.png`);
        await p.screenshot({ path: shot, fullPage: true });
        // Scrolled: the CPU headers stay at the top of the window (a short window, so every page can scroll).
        await p.setViewportSize({ width: 1400, height: 300 });
        const top = await p.evaluate(() => document.querySelector('.heads')!.getBoundingClientRect().top + window.scrollY);
        await p.evaluate((y) => window.scrollTo(0, y), top + 200);
        expect(await p.evaluate(() => window.scrollY)).toBeGreaterThan(top + 100);
        const head = await p.locator('.heads').boundingBox();
        expect(head && Math.abs(head.y) <= 1).toBe(true);
        expect(await p.locator('.cpu-title').first().isVisible()).toBe(true);
        await p.screenshot({ path: join(SHOTS, `${c.shot}-scrolled.png`) });
        expect(statSync(shot).size).toBeGreaterThan(10_000);
        console.log(`timeline screenshot: ${shot}`);
        expect(fetched).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 60_000);
  }
});

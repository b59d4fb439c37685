/**
 * The timeline view as one self-contained HTML page: inline CSS and SVG, no script, no
 * network fetch. Each CPU has four lanes (program, store buffer, walker, IPI); each trace
 * event is a box in its CPU's lane at its row, with the kernel function and the ordering tag;
 * SVG arrows join an IPI's send to its delivery and a buffered store to the step that makes
 * it visible; the stale TLB entry is a red band from its fill to its bad use, and the bad use
 * carries the violation marker. Layout is computed here (fixed row height and lane widths), so
 * the page renders the same everywhere. Escaping is the five-character HTML escape below: the
 * page has no other templating need, so no library is pulled in for it.
 */
import { LANES, LANE_TITLE, type Lane, type Timeline } from './timeline.ts';

const ROW_H = 54;
const TOP = 64;
const STEP_W = 64;
const GAP = 18;
const LANE_W: Record<Lane, number> = { program: 340, sb: 140, walker: 270, ipi: 150 };
const CPU_W = LANES.reduce((a, l) => a + LANE_W[l], 0);

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITY[c] ?? c);
}

const laneX = (cpu: number, lane: Lane): number => {
  let x = STEP_W + cpu * (CPU_W + GAP);
  for (const l of LANES) {
    if (l === lane) return x;
    x += LANE_W[l];
  }
  return x;
};
const rowY = (i: number): number => TOP + i * ROW_H;

export interface PageInfo {
  readonly title: string;
  /** Lines under the title: variant, scenario, bounds, outcome. */
  readonly facts: readonly string[];
}

export function renderHtml(tl: Timeline, info: PageInfo): string {
  const width = STEP_W + tl.cpus * (CPU_W + GAP);
  const height = TOP + tl.rows.length * ROW_H + 20;
  const parts: string[] = [];
  for (let c = 0; c < tl.cpus; c++) {
    parts.push(`<div class="cpu-title" style="left:${laneX(c, 'program')}px;width:${CPU_W}px">cpu${c}</div>`);
    for (const l of LANES) {
      parts.push(
        `<div class="lane lane-${l}" data-cpu="${c}" data-lane="${l}" style="left:${laneX(c, l)}px;width:${LANE_W[l]}px;height:${height - 24}px">` +
          `<div class="lane-title">${LANE_TITLE[l]}</div></div>`,
      );
    }
  }
  if (tl.stale) {
    const s = tl.stale;
    const y0 = rowY(s.fill) + 2;
    const y1 = rowY(s.use) + ROW_H - 2;
    parts.push(
      `<div class="stale" data-cpu="${s.cpu}" style="left:${laneX(s.cpu, 'program') - 6}px;width:${CPU_W + 12}px;top:${y0}px;height:${y1 - y0}px">` +
        `<span>stale TLB entry: filled at step ${tl.rows[s.fill]!.ev.step}, used at step ${tl.rows[s.use]!.ev.step}</span></div>`,
    );
  }
  tl.rows.forEach((r, i) => {
    const e = r.ev;
    if (i === 0 || tl.rows[i - 1]!.ev.step !== e.step) {
      parts.push(`<div class="step${e.branch !== undefined ? ' branch' : ''}" style="top:${rowY(i)}px" title="${e.branch !== undefined ? `branch point ${e.branch} on the tape` : 'forced step'}">${e.branch !== undefined ? '*' : ''}${e.step}</div>`);
    }
    const cls = ['ev', `actor-${e.actor}`];
    if (r.note) cls.push('note');
    if (tl.stale?.fill === i) cls.push('stale-fill');
    if (tl.violation?.row === i) cls.push('bad-use');
    if (tl.unseen.includes(i)) cls.push('unseen');
    const fn = e.fn && !r.note ? `<span class="fn">${esc(e.fn)}</span> ` : '';
    const tag = e.tag ? `<span class="tag">${esc(e.tag)}</span>` : '';
    parts.push(
      `<div class="${cls.join(' ')}" data-step="${e.step}" data-cpu="${e.cpu}" style="left:${laneX(e.cpu, r.lane) + 3}px;top:${rowY(i) + 3}px;width:${LANE_W[r.lane] - 6}px;height:${ROW_H - 6}px" title="${esc(`${e.fn}: ${e.text}${e.tag ? ` [${e.tag}]` : ''}`)}">` +
        `${fn}${esc(e.text)}${tag}</div>`,
    );
  });
  if (tl.violation) {
    const v = tl.violation;
    const e = tl.rows[v.row]!.ev;
    parts.push(`<div id="violation" class="violation-marker" style="left:${laneX(e.cpu, 'program') - 16}px;top:${rowY(v.row) + 12}px" title="${esc(v.message)}">!</div>`);
  }
  const paths = tl.arrows.map((a) => {
    const f = tl.rows[a.from]!;
    const t = tl.rows[a.to]!;
    const x0 = laneX(f.ev.cpu, f.lane) + LANE_W[f.lane] - 8;
    const y0 = rowY(a.from) + ROW_H / 2;
    const x1 = laneX(t.ev.cpu, t.lane) + (t.ev.cpu === f.ev.cpu && t.lane === f.lane ? LANE_W[t.lane] - 8 : 8);
    const y1 = rowY(a.to) + ROW_H / 2;
    const bend = Math.max(40, Math.abs(x1 - x0) / 3);
    return `<path class="arrow arrow-${a.kind}" d="M${x0},${y0} C${x0 + bend},${y0} ${x1 - (x1 > x0 ? bend : -bend)},${y1} ${x1},${y1}" marker-end="url(#head-${a.kind})"><title>${esc(a.label)}</title></path>`;
  });
  const svg =
    `<svg class="arrows" width="${width}" height="${height}"><defs>` +
    `<marker id="head-ipi" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#7b3fb8"/></marker>` +
    `<marker id="head-store" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#1f7a4d"/></marker>` +
    `</defs>${paths.join('')}</svg>`;
  const v = tl.violation;
  const head = [
    `<h1>${esc(info.title)}</h1>`,
    ...info.facts.map((f) => `<p class="fact">${esc(f)}</p>`),
    v
      ? `<p class="invariant">Violated <b>${esc(v.invariant)}</b>: ${esc(v.words)}.</p><p class="message">${esc(v.message)}</p>`
      : '<p class="invariant ok">No invariant is violated on this replay.</p>',
    '<p class="legend"><span class="k arrow-ipi-k">&#8594; IPI sent &#8594; delivered</span> <span class="k arrow-store-k">&#8594; buffered store &#8594; visible</span> <span class="k stale-k">stale TLB entry, fill to bad use</span> <span class="k">* branch point (a choice on the tape)</span></p>',
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>${CSS}</style></head>
<body><header>${head}</header>
<main class="timeline" style="width:${width}px;height:${height}px">
${parts.join('\n')}
${svg}
</main></body></html>
`;
}

const CSS = `
body{font:13px/1.3 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1d1d1f;background:#fff}
h1{font-size:18px;margin:0 0 6px}
p{margin:3px 0}.fact{color:#555}
.invariant{font-size:14px;color:#a30000}.invariant.ok{color:#1f7a4d}.message{color:#333;max-width:1200px}
.legend .k{display:inline-block;margin-right:14px;padding:1px 6px;border-radius:3px;background:#f3f3f3}
.arrow-ipi-k{color:#7b3fb8}.arrow-store-k{color:#1f7a4d}.stale-k{background:#ffd9d9 !important;color:#a30000}
.timeline{position:relative;margin-top:14px}
.cpu-title{position:absolute;top:0;height:22px;font-weight:700;font-size:14px;text-align:center;background:#e8eef7;border-radius:4px}
.lane{position:absolute;top:24px;border-left:1px solid #d0d0d0;background:#fafafa}
.lane-sb,.lane-ipi{background:#f4f7f4}.lane-walker{background:#f6f4fa}
.lane-title{font-size:11px;color:#666;text-align:center;padding:4px 0;border-bottom:1px solid #ddd}
.step{position:absolute;left:0;width:${STEP_W - 8}px;height:${ROW_H}px;line-height:${ROW_H}px;text-align:right;color:#666;font-variant-numeric:tabular-nums}
.step.branch{color:#000;font-weight:600}
.ev{position:absolute;box-sizing:border-box;overflow:hidden;font-size:11.5px;padding:2px 5px;border-radius:4px;background:#fff;border:1px solid #c9c9c9;z-index:2}
.ev .fn{font-weight:600;color:#1a4f8b}.ev .tag{display:inline-block;margin-left:4px;color:#8a5a00;font-style:italic}
.actor-irq{border-color:#7b3fb8}.actor-ipi{background:#f1e9fb;border-color:#7b3fb8}
.actor-drain{background:#e7f5ec;border-color:#1f7a4d}.actor-walk{background:#eef0ff;border-color:#5561c9}
.note{background:#fffbe6;border-style:dashed;color:#6b5a00}
.stale{position:absolute;background:rgba(255,80,80,.13);border:2px solid #e04040;border-radius:6px;z-index:1}
.stale span{position:absolute;right:6px;bottom:2px;font-size:11px;color:#a30000;font-weight:600}
.stale-fill{border:2px solid #e04040;background:#ffecec}
.unseen{border:2px dashed #1f7a4d}.unseen::after{content:" (never visible)";color:#1f7a4d;font-weight:600}
.bad-use{border:2px solid #a30000;background:#ffd9d9}
.violation-marker{position:absolute;width:22px;height:22px;border-radius:11px;background:#c00;color:#fff;font-weight:800;text-align:center;line-height:22px;z-index:3}
.arrows{position:absolute;left:0;top:0;pointer-events:none;z-index:3}
.arrow{fill:none;stroke-width:2}.arrow-ipi{stroke:#7b3fb8}.arrow-store{stroke:#1f7a4d;stroke-dasharray:5 3}
`;

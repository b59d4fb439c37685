/**
 * The timeline view as one self-contained HTML page: inline CSS and SVG, no script, no
 * network fetch. It opens with the violated invariant and its "why" (the causal chain the
 * explainer computed). Below, each CPU gets a program lane plus a lane for each of its
 * hardware actors that acts (store buffer, walker, IPI delivery); the CPU headers stay on
 * screen while the page scrolls. Each event is a box in its lane, labelled by its actor (the
 * kernel function for program steps; drain, walk, evict, IPI delivery for hardware), with
 * labels that wrap. SVG arrows join an IPI's send to its delivery, a buffered store to where
 * it became visible, and a read that missed a write to that write (the race); a marker shows
 * the IPI that was not sent; the stale TLB entry is a red band from its fill (or from a
 * "cached at boot" marker) to its bad use.
 *
 * Layout is computed here so the page renders the same everywhere and fits a 1400 px window
 * for 3 CPUs: lane widths share the width by weight, and each row is as tall as its label
 * needs, estimated with a deliberately wide character width (the browser test checks that no
 * label is clipped). Escaping is the five-character HTML escape below: the page has no other
 * templating need, so no library is pulled in for it.
 */
import { label } from './labels.ts';
import { LANE_TITLE, type Lane, type Timeline } from './timeline.ts';

/** The window the page is laid out for, and the page margin. */
export const PAGE_W = 1400;
const MARGIN = 12;
/** Room for a vertical scrollbar. */
const SCROLLBAR = 18;
const STEP_W = 40;
const GAP = 10;
const HEAD_H = 46;
const WEIGHT: Record<Lane, number> = { program: 3.2, sb: 1.3, walker: 1.6, ipi: 1.3 };
const MAX_W: Record<Lane, number> = { program: 520, sb: 220, walker: 260, ipi: 220 };
/** Box text: 11.5 px font, 14 px lines; the character width is an over-estimate on purpose. */
const LINE_H = 14;
const CHAR_W = 7.0;
const BOX_PAD = 12;
const STEP_SEP = 7;
const FOLD_SEP = 2;

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITY[c] ?? c);
}

export interface PageInfo {
  readonly title: string;
  /** Lines under the title: variant, scenario, bounds, outcome. */
  readonly facts: readonly string[];
}

/** Lines a label takes in a box `width` px wide (greedy word wrap; long words break anywhere). */
export function linesFor(text: string, width: number): number {
  const per = Math.max(8, Math.floor((width - BOX_PAD) / CHAR_W));
  let lines = 1;
  let used = 0;
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    const need = used === 0 ? word.length : used + 1 + word.length;
    if (need <= per) {
      used = need;
      continue;
    }
    if (used > 0) lines++;
    lines += Math.floor(Math.max(0, word.length - 1) / per);
    used = word.length % per || per;
  }
  return lines;
}

interface Geometry {
  readonly width: number;
  readonly laneW: readonly Record<Lane, number>[];
  readonly laneX: readonly Record<Lane, number>[];
  readonly cpuX: readonly number[];
  readonly cpuW: readonly number[];
}

function geometry(tl: Timeline): Geometry {
  const avail = PAGE_W - 2 * MARGIN - SCROLLBAR - STEP_W - GAP * Math.max(0, tl.cpus - 1);
  // A CPU that never acts keeps its column, narrow.
  const idle = (c: number): boolean => !tl.rows.some((r) => r.ev.cpu === c);
  const weight = (c: number, l: Lane): number => (idle(c) ? 1 : WEIGHT[l]);
  const total = tl.lanes.reduce((a, ls, c) => a + ls.reduce((b, l) => b + weight(c, l), 0), 0);
  const laneW: Record<Lane, number>[] = [];
  const laneX: Record<Lane, number>[] = [];
  const cpuX: number[] = [];
  const cpuW: number[] = [];
  let x = STEP_W;
  tl.lanes.forEach((ls, c) => {
    const w = { program: 0, sb: 0, walker: 0, ipi: 0 };
    const at = { program: x, sb: x, walker: x, ipi: x };
    cpuX.push(x);
    for (const l of ls) {
      w[l] = Math.floor(Math.min(MAX_W[l], (avail * weight(c, l)) / total));
      at[l] = x;
      x += w[l];
    }
    cpuW.push(x - cpuX[cpuX.length - 1]!);
    laneW.push(w);
    laneX.push(at);
    x += GAP;
  });
  return { width: x - GAP, laneW, laneX, cpuX, cpuW };
}

/** The text of a row's box, as the page shows it (for height estimates and the page alike). */
function boxParts(tl: Timeline, i: number): { who: string; text: string; tag: string } {
  const r = tl.rows[i]!;
  const l = label(r.ev);
  const who = r.note ? '' : (l.actor ?? l.fn ?? '');
  const unseen = tl.unseen.includes(i) ? ' (never visible)' : '';
  return { who, text: `${l.text}${unseen}`, tag: r.ev.tag ?? '' };
}

export function renderHtml(tl: Timeline, info: PageInfo): string {
  const g = geometry(tl);
  const ys: number[] = [];
  const hs: number[] = [];
  let y = 4;
  tl.rows.forEach((r, i) => {
    const p = boxParts(tl, i);
    const w = g.laneW[r.ev.cpu]![r.lane] - 4;
    // The actor's name is set in small capitals: count it a third wider.
    const who = r.lane === 'program' ? p.who : `${p.who}${'_'.repeat(Math.ceil(p.who.length / 3))}`;
    const h = linesFor(`${who} ${p.text} ${p.tag}`, w) * LINE_H + 10;
    if (i > 0) y += tl.rows[i - 1]!.ev.step === r.ev.step ? FOLD_SEP : STEP_SEP;
    ys.push(y);
    hs.push(h);
    y += h;
  });
  const height = y + 12;
  const heads: string[] = [];
  const parts: string[] = [];
  for (let c = 0; c < tl.cpus; c++) {
    heads.push(`<div class="cpu-title" style="left:${g.cpuX[c]}px;width:${g.cpuW[c]! - 2}px">cpu${c}</div>`);
    for (const l of tl.lanes[c]!) {
      heads.push(`<div class="lane-title" style="left:${g.laneX[c]![l]}px;width:${g.laneW[c]![l] - 1}px">${LANE_TITLE[l]}</div>`);
      parts.push(`<div class="lane lane-${l}" data-cpu="${c}" data-lane="${l}" style="left:${g.laneX[c]![l]}px;width:${g.laneW[c]![l]}px;height:${height}px"></div>`);
    }
  }
  const s = tl.stale;
  if (s) {
    const y0 = s.fill === 'boot' ? 0 : ys[s.fill]! - 3;
    const y1 = ys[s.use]! + hs[s.use]! + 3;
    const from = s.fill === 'boot' ? 'cached at boot' : `filled at step ${tl.rows[s.fill]!.ev.step}`;
    parts.push(
      `<div class="stale${y1 - y0 < 60 ? ' short' : ''}" data-cpu="${s.cpu}" data-fill="${s.fill}" style="left:${g.cpuX[s.cpu]! - 4}px;width:${g.cpuW[s.cpu]! + 8}px;top:${y0}px;height:${y1 - y0}px">` +
        `<span>stale TLB entry: ${from}, used at step ${tl.rows[s.use]!.ev.step}</span></div>`,
    );
    if (s.fill === 'boot') parts.push(`<div class="boot-marker" style="left:${g.cpuX[s.cpu]! + 4}px;top:2px">cached at boot</div>`);
  }
  tl.rows.forEach((r, i) => {
    const e = r.ev;
    if (i === 0 || tl.rows[i - 1]!.ev.step !== e.step) {
      parts.push(`<div class="step${e.branch !== undefined ? ' branch' : ''}" style="top:${ys[i]}px" title="${e.branch !== undefined ? `branch point ${e.branch} on the tape` : 'forced step'}">${e.branch !== undefined ? '*' : ''}${e.step}</div>`);
    }
    const cls = ['ev', `actor-${e.actor}`];
    if (r.note) cls.push('note');
    if (s?.fill === i) cls.push('stale-fill');
    if (tl.violation?.row === i) cls.push('bad-use');
    if (tl.unseen.includes(i)) cls.push('unseen');
    const p = boxParts(tl, i);
    const who = p.who ? `<span class="${r.lane === 'program' ? 'fn' : 'actor'}">${esc(p.who)}</span> ` : '';
    const tag = p.tag ? ` <span class="tag">${esc(p.tag)}</span>` : '';
    parts.push(
      `<div class="${cls.join(' ')}" data-row="${i}" data-step="${e.step}" data-cpu="${e.cpu}" data-lane="${r.lane}" style="left:${g.laneX[e.cpu]![r.lane] + 2}px;top:${ys[i]}px;width:${g.laneW[e.cpu]![r.lane] - 4}px;height:${hs[i]}px">` +
        `${who}${esc(p.text)}${tag}</div>`,
    );
  });
  if (tl.violation) {
    const v = tl.violation;
    const e = tl.rows[v.row]!.ev;
    parts.push(`<div id="violation" class="violation-marker" style="left:${g.cpuX[e.cpu]! - 13}px;top:${ys[v.row]! + 2}px" title="${esc(v.message)}">!</div>`);
  }
  const n = tl.noIpi;
  if (n) {
    const lane: Lane = tl.lanes[n.to]!.includes('ipi') ? 'ipi' : 'program';
    parts.push(
      `<div class="no-ipi" data-from="${n.from}" data-to="${n.to}" style="left:${g.laneX[n.to]![lane] + 2}px;top:${ys[n.row]}px;width:${g.laneW[n.to]![lane] - 4}px">` +
        `&#10005; no IPI from cpu${n.from}</div>`,
    );
  }
  const box = (i: number, right: boolean): { x: number; y: number } => {
    const r = tl.rows[i]!;
    return { x: g.laneX[r.ev.cpu]![r.lane] + (right ? g.laneW[r.ev.cpu]![r.lane] - 4 : 4), y: ys[i]! + Math.min(hs[i]!, 28) / 2 };
  };
  const paths = tl.arrows.map((a) => {
    const fr = tl.rows[a.from]!;
    const to = tl.rows[a.to]!;
    const sameCol = fr.ev.cpu === to.ev.cpu && fr.lane === to.lane;
    const rightward = g.laneX[to.ev.cpu]![to.lane] >= g.laneX[fr.ev.cpu]![fr.lane];
    const p0 = box(a.from, sameCol || rightward);
    const p1 = box(a.to, sameCol || !rightward);
    const bend = sameCol ? 36 : Math.max(30, Math.abs(p1.x - p0.x) / 3);
    const c0 = p0.x + (sameCol || rightward ? bend : -bend);
    const c1 = p1.x + (sameCol ? bend : rightward ? -bend : bend);
    const d = `M${p0.x},${p0.y} C${c0},${p0.y} ${c1},${p1.y} ${p1.x},${p1.y}`;
    const text = a.kind === 'race' ? `<text class="race-label" x="${(p0.x + p1.x) / 2}" y="${(p0.y + p1.y) / 2 - 4}">missed</text>` : '';
    return `<path class="arrow arrow-${a.kind}" data-from="${a.from}" data-to="${a.to}" d="${d}" marker-end="url(#head-${a.kind})"><title>${esc(a.label)}</title></path>${text}`;
  });
  const head = (id: string, color: string): string =>
    `<marker id="head-${id}" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="${color}"/></marker>`;
  const svg = `<svg class="arrows" width="${g.width}" height="${height}"><defs>${head('ipi', '#7b3fb8')}${head('store', '#1f7a4d')}${head('race', '#d4380d')}</defs>${paths.join('')}</svg>`;
  const v = tl.violation;
  const why = tl.why ? `<p class="why" id="why"><b>Why:</b> ${tl.why.links.map((l) => esc(l.text)).join(' <span class="then">&#8594;</span> ')}.</p>` : '';
  const top = [
    `<h1>${esc(info.title)}</h1>`,
    ...info.facts.map((f) => `<p class="fact">${esc(f)}</p>`),
    v
      ? `<p class="invariant">Violated <b>${esc(v.invariant)}</b>: ${esc(v.words)}.</p>${why}<p class="message">${esc(v.message)}</p>`
      : '<p class="invariant ok">No invariant is violated on this replay.</p>',
    '<p class="legend"><span class="k arrow-ipi-k">&#8594; IPI sent &#8594; taken</span> <span class="k arrow-store-k">&#8594; buffered store &#8594; visible</span> <span class="k arrow-race-k">&#8594; read &#8594; the write it missed</span> <span class="k no-ipi-k">&#10005; IPI not sent</span> <span class="k stale-k">stale TLB entry, fill (or boot) to bad use</span> <span class="k">* branch point (a choice on the tape)</span></p>',
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>${CSS}</style></head>
<body><header>${top}</header>
<main class="timeline" style="width:${g.width}px">
<div class="heads" style="width:${g.width}px;height:${HEAD_H}px">${heads.join('')}</div>
<div class="rows" style="width:${g.width}px;height:${height}px">
${parts.join('\n')}
${svg}
</div>
</main></body></html>
`;
}

const CSS = `
body{font:13px/1.3 system-ui,-apple-system,"Segoe UI",sans-serif;margin:${MARGIN}px;color:#1d1d1f;background:#fff}
header{max-width:${PAGE_W - 2 * MARGIN - SCROLLBAR}px}
h1{font-size:18px;margin:0 0 6px}
p{margin:3px 0}.fact{color:#555}
.invariant{font-size:14px;color:#a30000}.invariant.ok{color:#1f7a4d}.message{color:#555}
.why{font-size:14px;line-height:1.45;background:#fff7e6;border-left:4px solid #d4380d;padding:6px 10px;margin:8px 0}
.why .then{color:#d4380d;font-weight:700}
.legend .k{display:inline-block;margin-right:12px;padding:1px 6px;border-radius:3px;background:#f3f3f3}
.arrow-ipi-k{color:#7b3fb8}.arrow-store-k{color:#1f7a4d}.arrow-race-k{color:#d4380d}.no-ipi-k{color:#a30000}.stale-k{background:#ffd9d9 !important;color:#a30000}
.timeline{margin-top:10px}
.heads{position:sticky;top:0;z-index:8;background:#fff;border-bottom:1px solid #ccc}
.cpu-title{position:absolute;top:2px;height:20px;line-height:20px;font-weight:700;font-size:14px;text-align:center;background:#e8eef7;border-radius:4px}
.lane-title{position:absolute;top:25px;height:18px;font-size:11px;color:#555;text-align:center;overflow:hidden;white-space:nowrap;border-left:1px solid #d0d0d0}
.rows{position:relative}
.lane{position:absolute;top:0;border-left:1px solid #d0d0d0;background:#fafafa;box-sizing:border-box}
.lane-sb,.lane-ipi{background:#f4f7f4}.lane-walker{background:#f6f4fa}
.step{position:absolute;left:0;width:${STEP_W - 8}px;text-align:right;color:#666;font-variant-numeric:tabular-nums;font-size:12px;padding-top:2px}
.step.branch{color:#000;font-weight:600}
.ev{position:absolute;box-sizing:border-box;overflow:hidden;overflow-wrap:anywhere;font-size:11.5px;line-height:${LINE_H}px;padding:3px 5px;border-radius:4px;background:#fff;border:1px solid #c9c9c9;z-index:2}
.ev .fn{font-weight:600;color:#1a4f8b}.ev .actor{font-weight:700;color:#444;text-transform:uppercase;font-size:10px;letter-spacing:.02em}.ev .tag{color:#8a5a00;font-style:italic}
.actor-irq{border-color:#7b3fb8}.actor-ipi{background:#f1e9fb;border-color:#7b3fb8}
.actor-drain{background:#e7f5ec;border-color:#1f7a4d}.actor-walk,.actor-evict{background:#eef0ff;border-color:#5561c9}
.note{background:#fffbe6;border-style:dashed;color:#6b5a00}
.stale{position:absolute;background:rgba(255,80,80,.10);border:2px solid #e04040;border-radius:6px;z-index:1}
.stale span{position:absolute;right:6px;bottom:1px;font-size:11px;color:#a30000;font-weight:600;background:rgba(255,255,255,.8)}
.stale.short span{bottom:auto;top:-17px}
.boot-marker{position:absolute;z-index:4;font-size:11px;font-weight:700;color:#fff;background:#e04040;border-radius:3px;padding:1px 6px}
.stale-fill{border:2px solid #e04040;background:#ffecec}
.unseen{border:2px dashed #1f7a4d}
.bad-use{border:2px solid #a30000;background:#ffd9d9}
.no-ipi{position:absolute;box-sizing:border-box;z-index:4;font-size:11px;font-weight:700;color:#a30000;background:#fff;border:2px dashed #a30000;border-radius:4px;padding:2px 4px;overflow-wrap:anywhere}
.violation-marker{position:absolute;width:20px;height:20px;border-radius:10px;background:#c00;color:#fff;font-weight:800;text-align:center;line-height:20px;z-index:5}
.arrows{position:absolute;left:0;top:0;pointer-events:none;z-index:3;overflow:visible}
.arrow{fill:none;stroke-width:2;stroke-opacity:.75}.arrow-ipi{stroke:#7b3fb8}.arrow-store{stroke:#1f7a4d;stroke-dasharray:5 3}.arrow-race{stroke:#d4380d;stroke-width:2.5;stroke-dasharray:2 3}
.race-label{font-size:11px;font-weight:700;fill:#d4380d;paint-order:stroke;stroke:#fff;stroke-width:3px}
`;

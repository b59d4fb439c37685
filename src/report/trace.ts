/**
 * The per-CPU timeline in the terminal: one row per step, one column per CPU. Program steps
 * show `function: effect [tag]`; hardware events are marked `[drain]`, `[walk]`, `[ipi]`.
 * A `*` before the step number marks a branch point (a choice on the tape).
 */
import type { TraceEvent } from '../explore/sim.ts';

const MARK: Record<TraceEvent['actor'], string> = {
  cpu: '',
  irq: '[irq] ',
  ipi: '[ipi] ',
  drain: '[drain] ',
  bcast: '[invlpgb] ',
  sched: '[sched] ',
  nmi: '[nmi] ',
  walk: '[walk] ',
  evict: '[evict] ',
  end: '[end] ',
  ghost: '=> ',
};

function cell(e: TraceEvent): string {
  const fn = e.actor === 'cpu' || e.actor === 'irq' ? `${e.fn}: ` : '';
  const tag = e.tag ? ` [${e.tag}]` : '';
  return `${MARK[e.actor]}${fn}${e.text}${tag}`;
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= width / 3) cut = width;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
  }
  out.push(rest);
  return out;
}

export function renderColumns(trace: readonly TraceEvent[], cpus: number, width = 46): string {
  const lines: string[] = [];
  const head = ['step '.padEnd(6), ...Array.from({ length: cpus }, (_, c) => `cpu${c}`.padEnd(width))].join(' | ');
  lines.push(head.trimEnd());
  lines.push('-'.repeat(head.trimEnd().length));
  for (const e of trace) {
    const parts = wrap(cell(e), width);
    parts.forEach((p, i) => {
      const cols = Array.from({ length: cpus }, (_, c) => (c === e.cpu ? p : '').padEnd(width));
      const step = i === 0 ? `${e.branch !== undefined ? '*' : ' '}${e.step}`.padEnd(6) : ''.padEnd(6);
      lines.push([step, ...cols].join(' | ').trimEnd());
    });
  }
  return lines.join('\n');
}

/**
 * The generations written in C (src/kernel/c/<generation>/), and their bug variants (a small
 * .c file each, holding only the functions it changes). Machine features and shared per-CPU
 * fields come from the TypeScript generation each one mirrors; expectations come from the
 * files' tlbcheck headers (base generations: from the TypeScript generation, so that the two
 * are checked on the same rows, plus any rows of the C file's header that only the C runs).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { findVariant } from '../kernel/index.ts';
import { type CHeader, parseHeader } from './header.ts';
import type { CSource } from './program.ts';
import { type CVariant, type CVariantSpec, buildCVariant } from './variant.ts';

interface Builtin {
  /** Path under src/kernel/c/. */
  readonly file: string;
  /**
   * The TypeScript variant this one mirrors (verdict parity is tested against it). A patch
   * written only in C (a `base=` header, no TypeScript twin) has none.
   */
  readonly mirrors?: string;
}

export const C_BUILTINS: readonly Builtin[] = [
  { file: 'linux-4.12/tlb.c', mirrors: 'linux-4.12' },
  { file: 'linux-4.13/tlb.c', mirrors: 'linux-4.13' },
  { file: 'linux-4.13/variants/flush-no-mb.c', mirrors: 'linux-4.13-flush-no-mb' },
  { file: 'linux-4.13/variants/cr3-before-cpumask.c', mirrors: 'linux-4.13-cr3-before-cpumask' },
  { file: 'linux-4.14/tlb.c', mirrors: 'linux-4.14' },
  { file: 'linux-4.14/variants/reuse-asid-no-flush.c', mirrors: 'linux-4.14-reuse-asid-no-flush' },
  { file: 'linux-4.14/variants/noflush-stale-gen.c', mirrors: 'linux-4.14-noflush-stale-gen' },
  { file: 'linux-4.14/variants/partial-on-gen-skip.c', mirrors: 'linux-4.14-partial-on-gen-skip' },
  { file: 'linux-4.15-pti/tlb.c', mirrors: 'linux-4.15-pti' },
  { file: 'linux-4.15-pti/variants/kernel-flush-one-user.c', mirrors: 'linux-4.15-pti-kernel-flush-one-user' },
  { file: 'linux-4.15-pti/variants/no-user-pcid-flush.c', mirrors: 'linux-4.15-pti-no-user-pcid-flush' },
  { file: 'linux-4.20/tlb.c', mirrors: 'linux-4.20' },
  { file: 'linux-4.20/variants/lazy-skip-freed.c', mirrors: 'linux-4.20-lazy-skip-freed' },
  { file: 'linux-4.20/variants/was-lazy-no-mb.c', mirrors: 'linux-4.20-was-lazy-no-mb' },
  { file: 'linux-6.18/tlb.c', mirrors: 'linux-6.18' },
  { file: 'linux-6.18/variants/switch-no-mb.c', mirrors: 'linux-6.17-switch-no-mb' },
  { file: 'linux-6.18/variants/lazy-skip-freed.c', mirrors: 'linux-6.18-lazy-skip-freed' },
  { file: 'linux-6.18/variants/trim-cpumask.c', mirrors: 'linux-6.18-trim-cpumask' },
  { file: 'linux-6.18/variants/broadcast-no-tlbsync.c' },
  { file: 'linux-6.18/variants/no-finish-asid-transition.c' },
  { file: 'kaiser/tlb.c', mirrors: 'kaiser-percpu-flush' },
  { file: 'kaiser/variants/invpcid.c', mirrors: 'kaiser-invpcid' },
  { file: 'kaiser/variants/no-user-flush.c', mirrors: 'kaiser-no-user-flush' },
  { file: 'pasid/proposal.c', mirrors: 'pasid-ipi-proposal' },
  { file: 'pasid/ipi-mb.c', mirrors: 'pasid-ipi-mb' },
];

const repoPath = (file: string): string => `src/kernel/c/${file}`;

function readBuiltin(file: string): CSource {
  const url = new URL(`../kernel/c/${file}`, import.meta.url);
  return { file: repoPath(file), text: readFileSync(fileURLToPath(url), 'utf8') };
}

const cache = new Map<string, Promise<CVariant>>();

/** Ids of the C built-ins (without building them). */
export function cBuiltinIds(): string[] {
  return C_BUILTINS.map((b) => headerOf(readBuiltin(b.file)).id!);
}

function headerOf(src: CSource): CHeader {
  const h = parseHeader(src.file, src.text);
  if (!h?.id) throw new Error(`[tlbcheck bug] ${src.file} has no tlbcheck header with an id`);
  return h;
}

/** The C built-in `id`, or undefined. */
export function cBuiltin(id: string): Promise<CVariant> | undefined {
  const b = C_BUILTINS.find((x) => headerOf(readBuiltin(x.file)).id === id);
  if (!b) return undefined;
  let p = cache.get(id);
  if (!p) {
    p = buildBuiltin(b);
    cache.set(id, p);
  }
  return p;
}

async function buildBuiltin(b: Builtin): Promise<CVariant> {
  const src = readBuiltin(b.file);
  const h = headerOf(src);
  if (b.mirrors === undefined) {
    if (h.base === undefined) throw new Error(`[tlbcheck bug] ${b.file}: a base generation needs the TypeScript variant it mirrors`);
    return patchOn(h.base, src, h);
  }
  const ts = findVariant(b.mirrors);
  if (!ts) throw new Error(`[tlbcheck bug] ${b.file} mirrors unknown variant ${b.mirrors}`);
  if (h.base === undefined) {
    return buildCVariant({
      id: h.id!,
      title: h.title ?? `${ts.title} (C)`,
      generation: ts.generation,
      kind: 'base',
      source: `${repoPath(b.file)}; mirrors ${ts.source}`,
      features: ts.features,
      sharedPcpu: ts.sharedPcpu,
      // Rows only the C can run (e.g. INVLPGB, which the TypeScript generation does not
      // model) come from the C file's own header, after the TypeScript generation's rows.
      expect: [...ts.expect, ...(h.expect ?? [])],
      boot: h.boot ?? 'loaded_mm',
      sources: [src],
      noop: h.noop,
      config: h.config,
    });
  }
  return patchOn(h.base, src, h, ts.features);
}

/** C base generations: id -> the TypeScript generation each mirrors. */
function cBases(): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of C_BUILTINS) {
    const h = headerOf(readBuiltin(b.file));
    if (h.base === undefined && b.mirrors !== undefined) out.set(h.id!, b.mirrors);
  }
  return out;
}

/**
 * A patch file over a C base: its functions replace the base's of the same name. `base=` may
 * name the C build (`linux-4.13-c`) or the generation (`linux-4.13`); either way the patch
 * runs on the C build, and its `base` is the generation, so the gate checks it on every row
 * the generation holds on.
 */
export async function patchOn(
  baseId: string,
  src: CSource,
  h: CHeader,
  features?: CVariantSpec['features'],
  only?: ReadonlySet<string>,
): Promise<CVariant> {
  const bases = cBases();
  // A base generation, by C id or by the generation it mirrors; or any C built-in by id (a
  // patch over a patch, e.g. a fix over a proposal).
  const cId = bases.has(baseId) || cBuiltinIds().includes(baseId) ? baseId : [...bases].find(([, ts]) => ts === baseId)?.[0];
  const base = cId === undefined ? undefined : cBuiltin(cId);
  if (!base) {
    const known = [...bases].map(([c, ts]) => `${ts} (${c})`).join(', ');
    throw new UserError(`${src.file}: base=${baseId} is not a generation written in C (C generations: ${known})`);
  }
  const b = await base;
  const s = b.spec;
  return buildCVariant({
    ...s,
    id: h.id ?? src.file.replace(/^.*[\\/]/, '').replace(/\.c$/, ''),
    title: h.title ?? `${src.file} over ${baseId}`,
    kind: h.kind ?? 'user',
    base: bases.get(cId!) ?? C_BUILTINS.find((x) => headerOf(readBuiltin(x.file)).id === cId)!.mirrors ?? cId!,
    source: `${src.file} over ${baseId}`,
    features: features ?? s.features,
    expect: h.expect,
    ...(h.fixedBy === undefined ? {} : { fixedBy: h.fixedBy }),
    // A patch may change the TypeScript glue too (boot=, e.g. KAISER's return to user).
    boot: h.boot ?? s.boot,
    sources: [...s.sources, src],
    noop: [...s.noop, ...h.noop],
    config: [...s.config, ...h.config],
    ...(only === undefined ? {} : { only }),
  });
}

/**
 * The built-in variants: every kernel generation and bug/fix variant is a C file under
 * src/kernel/c/. A base generation is a whole `tlb.c` (`kind=base`, no `base=`), whose
 * tlbcheck header also gives its machine features, shared per-CPU fields and expectations; a
 * bug or fix variant is a small file holding only the functions it changes (`base=` names
 * the variant it patches).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { FEATURE_NAMES, type Features } from '../machine/types.ts';
import { type CHeader, parseHeader } from './header.ts';
import { parseSetupPcid } from '../kernel/common/setup-pcid.ts';
import type { CSource } from './program.ts';
import { type CVariant, type CVariantSpec, buildCVariant } from './variant.ts';

/** The built-in variants' files, under src/kernel/c/, bases before the variants that patch them. */
export const C_BUILTINS: readonly string[] = [
  'linux-4.12/tlb.c',
  'linux-4.13/tlb.c',
  'linux-4.13/variants/flush-no-mb.c',
  'linux-4.13/variants/cr3-before-cpumask.c',
  'linux-4.14/tlb.c',
  'linux-4.14/variants/reuse-asid-no-flush.c',
  'linux-4.14/variants/noflush-stale-gen.c',
  'linux-4.14/variants/partial-on-gen-skip.c',
  'linux-4.14/variants/pcid-without-pge.c',
  'linux-4.20/tlb.c',
  'linux-4.20/variants/lazy-skip-freed.c',
  'linux-4.20/variants/was-lazy-no-mb.c',
  'linux-4.20/variants/free-pte-page-no-flush.c',
  'linux-6.18/tlb.c',
  'linux-6.18/variants/switch-no-mb.c',
  'linux-6.18/variants/lazy-skip-freed.c',
  'linux-6.18/variants/broadcast-no-tlbsync.c',
  'linux-6.18/variants/no-finish-asid-transition.c',
  'linux-6.18/variants/trim-cpumask.c',
  'linux-6.18/variants/no-invlpg-miss-check.c',
  'linux-6.18/variants/flush-range-not-freed.c',
  'kaiser/tlb.c',
  'kaiser/variants/invpcid.c',
  'kaiser/variants/no-user-flush.c',
  'linux-4.15-pti/tlb.c',
  'linux-4.15-pti/variants/kernel-flush-one-user.c',
  'linux-4.15-pti/variants/no-user-pcid-flush.c',
  'pasid/proposal.c',
  'pasid/ipi-mb.c',
  'pasid/gp-fixup.c',
  'linux-6.18/variants/gather-free-before-flush.c',
  'linux-6.18/variants/finish-no-nested-flush.c',
  'linux-6.18/variants/mremap-flush-after-unlock.c',
  'linux-6.18/variants/mprotect-no-batched-flush.c',
  'linux-6.18/variants/gen-checked.c',
  'linux-6.18/variants/switch-no-mb-checked.c',
  'linux-4.12/variants/up.c',
  'linux-4.12/variants/up-cr3-preemptible.c',
  'linux-4.20/variants/nmi-uaccess-unchecked.c',
  'linux-6.18/variants/table-free-no-rcu.c',
  'linux-4.14/variants/table-free-single-user.c',
  'linux-6.18/variants/kernel-range-mb.c',
  'linux-4.14/variants/asid-by-mm-address.c',
  'linux-4.20/variants/clear-prev-after-cr3.c',
];

const repoPath = (file: string): string => `src/kernel/c/${file}`;

function readBuiltin(file: string): CSource {
  const url = new URL(`../kernel/c/${file}`, import.meta.url);
  return { file: repoPath(file), text: readFileSync(fileURLToPath(url), 'utf8') };
}

function headerOf(src: CSource): CHeader & { readonly id: string } {
  const h = parseHeader(src.file, src.text);
  if (!h?.id) throw new Error(`[tlbcheck bug] ${src.file} has no tlbcheck header with an id`);
  return h as CHeader & { readonly id: string };
}

const headers = new Map<string, { readonly src: CSource; readonly h: CHeader & { readonly id: string } }>();
for (const file of C_BUILTINS) {
  const src = readBuiltin(file);
  const h = headerOf(src);
  headers.set(h.id, { src, h });
}

/** Ids of the built-in variants, in C_BUILTINS order. */
export function cBuiltinIds(): string[] {
  return [...headers.keys()];
}

/** Ids of the base generations. */
export function cBaseIds(): string[] {
  return [...headers.values()].filter((x) => x.h.base === undefined).map((x) => x.h.id);
}

const cache = new Map<string, Promise<CVariant>>();

/** The built-in variant `id`, or undefined. */
export function cBuiltin(id: string): Promise<CVariant> | undefined {
  const b = headers.get(id);
  if (!b) return undefined;
  let p = cache.get(id);
  if (!p) {
    p = buildBuiltin(b.src, b.h);
    cache.set(id, p);
  }
  return p;
}

/** Every built-in variant, built. */
export function allBuiltins(): Promise<CVariant[]> {
  return Promise.all(cBuiltinIds().map((id) => cBuiltin(id)!));
}

function featuresOf(names: readonly string[]): Features {
  return Object.fromEntries(FEATURE_NAMES.map((f) => [f, names.includes(f)])) as unknown as Features;
}

/** Shared kernel helpers linked before every base's tlb.c (a variant's function of the same name replaces one). */
export const C_COMMON: readonly string[] = ['common/mm.c'];

async function buildBuiltin(src: CSource, h: CHeader & { readonly id: string }): Promise<CVariant> {
  if (h.base !== undefined) return patchOn(h.base, src, h);
  return buildCVariant({
    id: h.id,
    title: h.title ?? h.id,
    generation: h.generation ?? h.id,
    kind: 'base',
    source: h.source === undefined ? src.file : `${h.source} (${src.file})`,
    features: featuresOf(h.features),
    sharedPcpu: new Set(h.sharedPcpu),
    expect: h.expect,
    boot: h.boot ?? 'loaded_mm',
    ...(h.userAccess === undefined ? {} : { userAccess: h.userAccess }),
    ...(h.setupPcid === undefined ? {} : { setupPcid: parseSetupPcid(src.file, h.setupPcid) }),
    // The common C every base links (C_COMMON), the shared files it links (link=, e.g. the mm
    // side), then the base's own file, last as every variant's own file is.
    sources: [...C_COMMON.map(readBuiltin), ...(h.link ?? []).map(readBuiltin), src],
    noop: h.noop,
    config: h.config,
    invariants: h.invariants,
    mmFields: h.mmFields,
  });
}

/**
 * A patch file over a built-in variant: its functions replace those of the same name. The base
 * is a generation (`linux-4.13`) or any built-in (a patch over a patch, e.g. a fix over a
 * proposal); the patch inherits its machine, shared per-CPU fields and program.
 */
export async function patchOn(baseId: string, src: CSource, h: CHeader, only?: ReadonlySet<string>): Promise<CVariant> {
  const base = cBuiltin(baseId);
  if (!base) {
    throw new UserError(`${src.file}: base=${baseId} is not a built-in variant (generations: ${cBaseIds().join(', ')})`);
  }
  const s = (await base).spec;
  const features = h.features.length > 0 ? featuresOf(h.features) : s.features;
  const userAccess = h.userAccess ?? s.userAccess;
  // A patch may change the boot's setup_pcid() checks (setup-pcid=none drops them all).
  const setupPcid = h.setupPcid === undefined ? s.setupPcid : parseSetupPcid(src.file, h.setupPcid);
  const spec: CVariantSpec = {
    ...s,
    id: h.id ?? src.file.replace(/^.*[\\/]/, '').replace(/\.c$/, ''),
    title: h.title ?? `${src.file} over ${baseId}`,
    kind: h.kind ?? 'user',
    base: baseId,
    source: h.source === undefined ? `${src.file} over ${baseId}` : `${h.source} (${src.file})`,
    features,
    sharedPcpu: h.sharedPcpu.length > 0 ? new Set(h.sharedPcpu) : s.sharedPcpu,
    expect: h.expect,
    // A patch may change the TypeScript glue too (boot=, e.g. KAISER's return to user).
    boot: h.boot ?? s.boot,
    sources: [...s.sources, src],
    noop: [...s.noop, ...h.noop],
    config: [...s.config, ...h.config],
    mmFields: [...new Set([...(s.mmFields ?? []), ...h.mmFields])],
    invariants: [...(s.invariants ?? []), ...h.invariants.filter((i) => !(s.invariants ?? []).some((b) => b.name === i.name))],
  };
  const { fixedBy: _f, only: _o, userAccess: _u, setupPcid: _s, ...rest } = spec;
  return buildCVariant({
    ...rest,
    ...(setupPcid === undefined ? {} : { setupPcid }),
    ...(h.fixedBy === undefined ? {} : { fixedBy: h.fixedBy }),
    ...(userAccess === undefined ? {} : { userAccess }),
    ...(only === undefined ? {} : { only }),
  });
}

/**
 * The leading `tlbcheck:` comment of a C variant file: what the file is and what it expects.
 *
 *   /* tlbcheck: base=linux-4.13
 *    * id=my-patch kind=bug fixed-by=linux-4.13
 *    * expect=switch-vs-flush:2:violated:no-stale-tlb-use
 *    * noop=trace_tlb_flush,count_vm_tlb_event
 *    * config=CONFIG_DEBUG_VM
 *    *\/
 *
 * A base generation (no `base=`) also says what it runs on and where it comes from:
 *
 *   /* tlbcheck: id=linux-4.20 kind=base boot=pcid-4.20 generation=linux-4.20
 *    *   features=pcid,pge shared-pcpu=is_lazy source="arch/x86/mm/tlb.c @ v4.20"
 *    *\/
 *
 * A base may link further files of src/kernel/c/ before its own (`link=mm/mmu_gather.c,mm/memory.c`):
 * the mm side (mmu_gather, the zap paths) is shared C, the same text in every generation
 * that links it; the bug and fix variants over the base see those functions like its own.
 *
 * `key=value` pairs separated by blanks; `expect`, `noop`, `config`, `features` and
 * `shared-pcpu` take comma lists and may repeat. An expectation is `scenario:cpus:holds` or `scenario:cpus:violated:invariant`,
 * optionally followed by machine features, e.g. `@invpcid` or `@invpcid/-pge`.
 */
import { UserError } from '../errors.ts';
import type { Expectation } from '../kernel/variant.ts';
import { PCPU_FIELDS, type PcpuField } from '../kernel/layout.ts';
import { ALL_FEATURE_NAMES, type FeatureName } from '../machine/types.ts';

export interface CHeader {
  readonly base?: string;
  readonly id?: string;
  readonly title?: string;
  readonly kind?: 'bug' | 'fix' | 'user' | 'base';
  readonly fixedBy?: string;
  /** Base generations only: the per-CPU field that names the loaded mm at boot. */
  readonly boot?: string;
  /** Where the code comes from (kernel file, version, commit, seed). */
  readonly source?: string;
  /** Base generations: the kernel generation (default: the id). */
  readonly generation?: string;
  /** Base generations: the machine features it runs on. */
  readonly features: FeatureName[];
  /** Base generations: the per-CPU fields other CPUs read (the rest are private). */
  readonly sharedPcpu: PcpuField[];
  /** The return to user mode, where it is not the plain one (`enqcmd`: PASID #GP fixup). */
  readonly userAccess?: string;
  /** Base generations and patches: the checks of the boot's setup_pcid() (common/setup-pcid.ts). */
  readonly setupPcid?: string[];
  readonly expect: Expectation[];
  readonly noop: string[];
  readonly config: string[];
  /** Base generations: further files under src/kernel/c/ linked before this one (`link=`). */
  readonly link?: string[];
  /** Invariants the variant declares: `invariant=name:function`, a C predicate checked on every CPU after every step. */
  readonly invariants: DeclaredInvariant[];
  /** Fields the variant adds to struct mm_struct (`mm-fields=a,b`): shared words, 0 at boot, read and written as `READ_ONCE(mm->a)`. */
  readonly mmFields: string[];
}

export interface DeclaredInvariant {
  readonly name: string;
  readonly fn: string;
}

const KEYS = new Set(['base', 'id', 'title', 'kind', 'fixed-by', 'boot', 'expect', 'noop', 'config', 'source', 'generation', 'features', 'shared-pcpu', 'user-access', 'link', 'setup-pcid', 'invariant', 'mm-fields']);

/** The header of `src`, or undefined when the file has none (a real kernel file). */
export function parseHeader(file: string, src: string): CHeader | undefined {
  const m = /\/\*\s*tlbcheck:([\s\S]*?)\*\//.exec(src);
  if (!m) return undefined;
  const line = src.slice(0, m.index).split('\n').length;
  const body = m[1]!.replace(/^\s*\*/gm, ' ');
  const h: { -readonly [K in keyof CHeader]?: CHeader[K] } = { expect: [], noop: [], config: [], features: [], sharedPcpu: [], link: [], invariants: [], mmFields: [] };
  // title="..." may hold blanks.
  const re = /([a-z-]+)=("([^"]*)"|\S+)/g;
  let kv: RegExpExecArray | null;
  while ((kv = re.exec(body))) {
    const key = kv[1]!;
    const val = kv[3] ?? kv[2]!;
    if (!KEYS.has(key)) throw new UserError(`${file}:${line}: unknown tlbcheck header key '${key}' (known: ${[...KEYS].join(', ')})`);
    const list = val.split(',').map((s) => s.trim()).filter((s) => s !== '');
    switch (key) {
      case 'expect':
        for (const e of list) h.expect!.push(parseExpect(file, line, e));
        break;
      case 'noop':
        h.noop!.push(...list);
        break;
      case 'config':
        h.config!.push(...list);
        break;
      case 'link':
        h.link!.push(...list);
        break;
      case 'mm-fields':
        for (const f of list) {
          if (!/^[A-Za-z_]\w*$/.test(f)) throw new UserError(`${file}:${line}: bad mm field '${f}' (a C identifier)`);
          h.mmFields!.push(f);
        }
        break;
      case 'invariant':
        for (const d of list) {
          const m2 = /^([a-z0-9][a-z0-9-]*):([A-Za-z_]\w*)$/.exec(d);
          if (!m2) throw new UserError(`${file}:${line}: bad invariant '${d}' (name:function, e.g. tlb-gen-caught-up:tlb_gen_caught_up)`);
          h.invariants!.push({ name: m2[1]!, fn: m2[2]! });
        }
        break;
      case 'kind':
        if (!['bug', 'fix', 'user', 'base'].includes(val)) throw new UserError(`${file}:${line}: kind must be bug, fix, user or base`);
        h.kind = val as NonNullable<CHeader['kind']>;
        break;
      case 'fixed-by':
        h.fixedBy = val;
        break;
      case 'user-access':
        h.userAccess = val;
        break;
      case 'setup-pcid':
        h.setupPcid = list;
        break;
      case 'features':
        for (const f of list) {
          if (!(ALL_FEATURE_NAMES as readonly string[]).includes(f)) throw new UserError(`${file}:${line}: unknown feature '${f}' (known: ${ALL_FEATURE_NAMES.join(', ')})`);
          h.features!.push(f as FeatureName);
        }
        break;
      case 'shared-pcpu':
        for (const f of list) {
          if (!(PCPU_FIELDS as readonly string[]).includes(f)) throw new UserError(`${file}:${line}: unknown per-CPU field '${f}' (known: ${PCPU_FIELDS.join(', ')})`);
          h.sharedPcpu!.push(f as PcpuField);
        }
        break;
      default:
        (h as Record<string, unknown>)[key] = val;
    }
  }
  return h as CHeader;
}

function parseExpect(file: string, line: number, spec: string): Expectation {
  // scenario:cpus:verdict[:invariant][@feature/-feature...]: machine features of the row.
  const [e, feats] = spec.split('@') as [string, string | undefined];
  const features: Record<string, boolean> = {};
  for (const f of feats?.split('/') ?? []) {
    const name = f.replace(/^[-+]/, '');
    if (!(ALL_FEATURE_NAMES as readonly string[]).includes(name)) {
      throw new UserError(`${file}:${line}: bad feature '${f}' in expect '${spec}' (${ALL_FEATURE_NAMES.join(', ')}, each optionally with -)`);
    }
    features[name] = !f.startsWith('-');
  }
  const withFeatures = feats === undefined ? {} : { features };
  const [scenario, cpus, verdict, invariant] = e.split(':');
  const n = Number(cpus);
  if (!scenario || !Number.isInteger(n) || (verdict !== 'holds' && verdict !== 'violated') || (verdict === 'violated') !== (invariant !== undefined)) {
    throw new UserError(`${file}:${line}: bad expect '${e}' (scenario:cpus:holds or scenario:cpus:violated:invariant)`);
  }
  return invariant === undefined ? { scenario, cpus: n, verdict, ...withFeatures } : { scenario, cpus: n, verdict, invariant, ...withFeatures };
}

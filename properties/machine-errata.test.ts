/**
 * Errata as machine features. `invlpg-miss` (Intel Alder Lake / Raptor Lake; Linux
 * ce0b15d11ad8 "x86/mm: Avoid incomplete Global INVLPG flushes", arch/x86/mm/init.c
 * invlpg_miss_ids): with CR4.PCIDE set, INVLPG may leave the global translation of its
 * address; the kernel's workaround runs such CPUs without PCID (setup_pcid clears
 * X86_FEATURE_PCID), and then INVLPG drops it again. Each assertion fails without the
 * erratum rule or with it applied regardless of CR4.PCIDE.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { DEFAULT_BOUNDS, type Features, PageKind, entryLoc, formatFeatures, makeEntry, vpnOf } from '../src/machine/types.ts';
import { parseFeatures } from '../src/cli/options.ts';

const KVA = 0x80000; // a global kernel page
const VA = 0x1000;

function machine(features: Features): Machine {
  const m = new Machine({ features, bounds: DEFAULT_BOUNDS, cpus: 1, pages: 6, vars: 1, varOwner: [-1] });
  m.setPage(1, PageKind.PtUpper, 1);
  m.setPage(2, PageKind.PtLeaf, 1);
  m.setPage(3, PageKind.Data, 0);
  m.setPage(4, PageKind.Data, 0);
  m.setPage(5, PageKind.PtLeaf, -1);
  m.poke(entryLoc(1, 0), makeEntry(2));
  m.poke(entryLoc(2, 1), makeEntry(3));
  m.poke(entryLoc(1, 8), makeEntry(5));
  m.poke(entryLoc(5, 0), makeEntry(4, true));
  const pcid = features.pcid ? 1 : 0;
  m.bootCr3(0, 1, pcid);
  m.prefill(0, 1, pcid, KVA);
  m.prefill(0, 1, pcid, VA);
  return m;
}
const has = (m: Machine, va: number): boolean => m.cpu(0).tlb.some((e) => e.vpn === vpnOf(va));
const ADL: Features = { pcid: true, invpcid: true, pge: true, pti: false, 'invlpg-miss': true };

describe('invlpg-miss erratum', () => {
  it('with PCIDs on, INVLPG leaves the global entry but still drops the current PCID one', () => {
    const m = machine(ADL);
    m.invlpg(0, KVA);
    m.invlpg(0, VA);
    expect(has(m, KVA)).toBe(true);
    expect(has(m, VA)).toBe(false);
  });

  it("the kernel's workaround, PCID off (ce0b15d11ad8): INVLPG drops the global entry", () => {
    const m = machine({ ...ADL, pcid: false, invpcid: false });
    m.invlpg(0, KVA);
    expect(has(m, KVA)).toBe(false);
  });

  it('a CPU without the erratum drops it with PCIDs on', () => {
    const m = machine({ ...ADL, 'invlpg-miss': false });
    m.invlpg(0, KVA);
    expect(has(m, KVA)).toBe(false);
  });

  it('is an extra feature: named on the command line, printed only when on', () => {
    const f = parseFeatures('invlpg-miss', { pcid: true, invpcid: false, pge: true, pti: false });
    expect(f['invlpg-miss']).toBe(true);
    expect(formatFeatures(f)).toBe('pcid,-invpcid,pge,-pti,invlpg-miss');
    expect(formatFeatures(parseFeatures('-invlpg-miss', f))).toBe('pcid,-invpcid,pge,-pti');
    expect(Object.keys(parseFeatures('pcid', { pcid: false, invpcid: false, pge: true, pti: false }))).not.toContain('invlpg-miss');
  });
});

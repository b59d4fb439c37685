/**
 * The litmus corpus (`properties/litmus/*.litmus`): every test, run on the machine that checks
 * the kernel, gets the verdict its file states (`Expect=`), with its source (`Source=`, and for
 * translation tests the SDM 4.10 rule in `Rule=`). A deliberately broken rule changes corpus
 * verdicts. Also: the `tlbcheck litmus` command contract, and the parser's error lines.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Cr4KeepsTlbMachine,
  DataIgnoresTlbMachine,
  InvlpgKeepsPscMachine,
  IpiAlwaysDrainsMachine,
  InvlpgbDrainsMachine,
  InvlpgbSyncMachine,
  IretNoDrainMachine,
  NoAdUpdateMachine,
  NoDrainOnInterruptMachine,
  NoEarlyWalksMachine,
  NoFaultInvalidationMachine,
  NoForwardingMachine,
  NoInvlpgMissMachine,
  NoPscMachine,
  TlbsyncNoWaitMachine,
  TlbsyncWaitsForAllMachine,
  WalkerSeesSbMachine,
  WriteUsesCleanEntryMachine,
} from './broken-machines.ts';
import { compile } from '../src/litmus/compile.ts';
import { LitmusSyntaxError, parseLitmus } from '../src/litmus/parse.ts';
import { formatLitmus, type LitmusResult, runLitmus } from '../src/litmus/run.ts';
import { Machine, type MachineInit } from '../src/machine/machine.ts';
import { cli, tempDir } from './helpers.ts';

const DIR = join(import.meta.dirname, 'litmus');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.litmus')).sort();
const corpus = FILES.map((f) => ({ file: f, test: parseLitmus(readFileSync(join(DIR, f), 'utf8')) }));

function runCorpus(makeMachine?: (i: MachineInit) => Machine, only?: (name: string) => boolean): Map<string, LitmusResult> {
  return new Map(corpus.filter(({ test }) => !only || only(test.name)).map(({ test }) => [test.name, runLitmus(test, makeMachine)]));
}

/**
 * The tests a broken rule is run on when the assertion is "these change, and no plain x86-TSO
 * test does": every plain test and the named ones. The other translation tests may change or
 * not without failing it, so running them (tlb-alias-coherence alone explores 27k states
 * without partial-order reduction) would only cost time.
 */
const plainAnd = (names: readonly string[]) => (n: string): boolean => !n.startsWith('tlb-') || names.includes(n);
const named = (want: readonly string[]): string[] => want.map((w) => w.split(':')[0]!);

const correct = runCorpus();

describe('litmus corpus', () => {
  it('has the SDM 8.2.3 examples, x86-TSO paper and herdtools7 tests, and at least 15 translation tests', () => {
    const sources = corpus.map((c) => c.test.meta.get('Source') ?? '');
    for (const s of ['8.2.3.2', '8.2.3.3', '8.2.3.4', '8.2.3.5', '8.2.3.6', '8.2.3.7', '8.2.3.8', '8.2.3.9']) {
      expect(sources.some((x) => x.includes(`§${s}`)), s).toBe(true);
    }
    expect(sources.filter((s) => s.includes('x86-TSO paper')).length).toBeGreaterThanOrEqual(4);
    expect(sources.filter((s) => s.includes('herdtools7')).length).toBeGreaterThanOrEqual(5);
    expect(corpus.filter((c) => compile(c.test).translation).length).toBeGreaterThanOrEqual(15);
  });

  for (const { file, test } of corpus) {
    it(`${file}: Observation ${test.meta.get('Expect')}`, () => {
      const expected = test.meta.get('Expect');
      expect(['Never', 'Sometimes', 'Always']).toContain(expected);
      expect(test.meta.get('Source')?.length ?? 0).toBeGreaterThan(10);
      // Translation tests cite the SDM rule they exercise (§4.10, or the interrupt and
      // ordering rules a shootdown relies on: §8.2, §9.3, §11.x), or AMD's APM for INVLPGB.
      if (compile(test).translation) expect(test.meta.get('Rule')).toMatch(/§(4\.10|4\.8|8\.2|9\.3|11\.\d+)|AMD64 APM Vol\. 3/);
      const r = correct.get(test.name)!;
      expect(r.observation).toBe(expected);
      // Ok/No follows from the quantifier and the observation, as in herd7.
      const q = test.cond.quant;
      expect(r.ok).toBe(q === 'exists' ? r.p > 0 : q === '~exists' ? r.p === 0 : r.n === 0);
      expect(r.states.length).toBe(r.p + r.n);
    });
  }

  it('the named translation rules are all covered', () => {
    for (const n of [
      'tlb-remote-invlpg-no-ipi',
      'tlb-cr3-noflush-keeps-pcid',
      'tlb-global-survives-cr3',
      'tlb-invlpg-drops-all-psc',
      'tlb-walk-own-sb',
      'tlb-freed-table-via-psc',
    ]) {
      expect(correct.has(n), n).toBe(true);
    }
    expect(correct.get('tlb-freed-table-via-psc')!.states).toContain('violation=no-walk-through-freed-table;');
  });
});

const changed = (broken: Map<string, LitmusResult>): string[] =>
  [...broken].filter(([n, r]) => r.observation !== correct.get(n)!.observation).map(([n, r]) => `${n}: ${correct.get(n)!.observation} -> ${r.observation}`);

describe('partial-order reduction', () => {
  it('changes no corpus verdict or final state (a substituted machine turns it off)', () => {
    const plain = runCorpus((i) => new Machine(i));
    expect(changed(plain)).toEqual([]);
    for (const [n, r] of plain) expect(r.states, n).toEqual(correct.get(n)!.states);
  });
});

describe('a deliberately broken rule changes corpus verdicts', () => {
  it('loads that ignore their own buffered store: SDM 8-4 and n5 stop being Never', () => {
    const diff = changed(runCorpus((i) => new NoForwardingMachine(i), plainAnd(['SDM-8-4', 'n5'])));
    expect(diff).toContain('SDM-8-4: Never -> Sometimes');
    expect(diff).toContain('n5: Never -> Sometimes');
  });

  it('a walker that reads the store buffer: a walk reaches p before the PTE store is visible', () => {
    const diff = changed(runCorpus((i) => new WalkerSeesSbMachine(i), plainAnd(['tlb-walk-reads-memory'])));
    // (tlb-walk-own-sb stays Sometimes even so: a walk made before the store is an early walk.)
    expect(diff).toContain('tlb-walk-reads-memory: Never -> Sometimes');
    // No x86-TSO test involves the walker.
    expect(diff.every((d) => d.startsWith('tlb-'))).toBe(true);
  });

  // Issue 17: each new hardware rule, broken on purpose, changes the verdicts of its tests.
  const cases: [string, (i: MachineInit) => Machine, string[]][] = [
    ['walks ordered after earlier loads (no early walks)', (i) => new NoEarlyWalksMachine(i), ['tlb-early-walk-fault: Sometimes -> Never']],
    ['interrupt delivery that does not drain', (i) => new NoDrainOnInterruptMachine(i), ['tlb-irq-entry-drains: Never -> Sometimes']],
    ['an IRET that does not drain', (i) => new IretNoDrainMachine(i), ['tlb-iret-serializes: Never -> Sometimes']],
    [
      'IPI sends that always drain (x2APIC WRMSR and xAPIC ICR store as if LOCK\'d)',
      (i) => new IpiAlwaysDrainsMachine(i),
      ['tlb-ipi-x2apic-overtakes: Sometimes -> Never', 'tlb-ipi-xapic-no-drain: Sometimes -> Never'],
    ],
    ['data accesses that ignore the TLB', (i) => new DataIgnoresTlbMachine(i), ['tlb-stale-translation-read: Sometimes -> Never']],
    ['walks that never use the paging-structure cache', (i) => new NoPscMachine(i), ['tlb-repoint-pmd-stale-psc: Sometimes -> Never']],
    ['a page fault that invalidates nothing', (i) => new NoFaultInvalidationMachine(i), ['tlb-fault-invalidates: Never -> Sometimes']],
    [
      'a walker that never sets accessed/dirty flags',
      (i) => new NoAdUpdateMachine(i),
      ['tlb-ad-walker-sets-accessed: Always -> Never', 'tlb-ad-write-sets-dirty: Always -> Never'],
    ],
    ['a write through a clean entry without a new walk', (i) => new WriteUsesCleanEntryMachine(i), ['tlb-write-clean-entry-rewalks: Never -> Sometimes']],
    [
      'a CR4 write that invalidates nothing',
      (i) => new Cr4KeepsTlbMachine(i),
      ['tlb-cr4-pge-clear-drops-global: Never -> Sometimes', 'tlb-cr4-pcide-clear-drops-all: Never -> Sometimes'],
    ],
  ];
  for (const [what, make, want] of cases) {
    it(`${what}: ${want.map((w) => w.split(':')[0]).join(', ')} change`, () => {
      const diff = changed(runCorpus(make, plainAnd(named(want))));
      for (const w of want) expect(diff).toContain(w);
      // No plain x86-TSO test involves these rules.
      expect(diff.every((d) => d.startsWith('tlb-'))).toBe(true);
    });
  }

  // Issue 16: AMD broadcast invalidation (INVLPGB / TLBSYNC).
  const amd: [string, (i: MachineInit) => Machine, string[]][] = [
    ['a TLBSYNC that does not wait', (i) => new TlbsyncNoWaitMachine(i), ['tlb-invlpgb-tlbsync: Never -> Sometimes']],
    ["a TLBSYNC that waits for other CPUs' INVLPGBs too", (i) => new TlbsyncWaitsForAllMachine(i), ['tlb-tlbsync-own-only: Sometimes -> Never']],
    ['an INVLPGB that invalidates every CPU at once', (i) => new InvlpgbSyncMachine(i), ['tlb-invlpgb-remote-async: Sometimes -> Never']],
    ['an INVLPGB that drains the store buffer', (i) => new InvlpgbDrainsMachine(i), ['tlb-invlpgb-weakly-ordered: Sometimes -> Never']],
  ];
  it('a CPU without the invlpg-miss erratum: only the erratum test changes (Sometimes -> Never)', () => {
    expect(changed(runCorpus((i) => new NoInvlpgMissMachine(i)))).toEqual(['tlb-invlpg-miss-keeps-global: Sometimes -> Never']);
  });
  for (const [what, make, want] of amd) {
    it(`${what}: ${want.map((w) => w.split(':')[0]).join(', ')} change`, () => {
      const diff = changed(runCorpus(make));
      for (const w of want) expect(diff).toContain(w);
      expect(diff.every((d) => d.startsWith('tlb-invlpgb') || d.startsWith('tlb-tlbsync'))).toBe(true);
    });
  }

  it('an INVLPG that keeps the other paging-structure-cache entries: a walk reaches the freed table', () => {
    const diff = changed(runCorpus((i) => new InvlpgKeepsPscMachine(i), (n) => n === 'tlb-invlpg-drops-all-psc'));
    expect(diff).toContain('tlb-invlpg-drops-all-psc: Never -> Sometimes');
  });
});

const SB = `X86 SB
"Fre PodWR Fre PodWR"
(* a comment (* nested *) *)
{ x=0; y=0; 0:EAX=0; 1:EAX=0; }
 P0          | P1          ;
 MOV [x],$1  | MOV [y],$1  ;
 MOV EAX,[y] | MOV EAX,[x] ;
exists (0:EAX=0 /\\ 1:EAX=0)
`;
const SB_MFENCES = SB.replace('X86 SB', 'X86 SB+mfences').replace(' MOV EAX,[y]', ' MFENCE      | MFENCE      ;\n MOV EAX,[y]');

describe('tlbcheck litmus', () => {
  it("prints herd7's lines: SB is Sometimes, SB with MFENCE in both threads Never (exit 0)", async () => {
    const d = tempDir();
    writeFileSync(join(d, 'SB.litmus'), SB);
    writeFileSync(join(d, 'SB+mfences.litmus'), SB_MFENCES);
    const r = await cli('litmus', join(d, 'SB.litmus'), join(d, 'SB+mfences.litmus'));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const [sb, mf] = r.out.split('\n\n');
    expect(sb!.split('\n')).toEqual([
      'Test SB Allowed',
      'States 4',
      '0:EAX=0; 1:EAX=0;',
      '0:EAX=0; 1:EAX=1;',
      '0:EAX=1; 1:EAX=0;',
      '0:EAX=1; 1:EAX=1;',
      'Ok',
      'Witnesses',
      'Positive: 1 Negative: 3',
      'Condition exists (0:EAX=0 /\\ 1:EAX=0)',
      'Observation SB Sometimes 1 3',
    ]);
    expect(mf).toContain('Observation SB+mfences Never 0 3');
    expect(mf).toMatch(/^States 3$/m);
    expect(mf).toMatch(/^No$/m);
  });

  it('a malformed file gets one line file:line naming the token; the other files still run (exit 2)', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'bad.litmus'), SB.replace('MOV EAX,[x]', 'MOVE EAX,[x]'));
    writeFileSync(join(d, 'SB.litmus'), SB);
    const r = await cli('litmus', join(d, 'bad.litmus'), join(d, 'missing.litmus'), join(d, 'SB.litmus'));
    expect(r.code).toBe(2);
    const errs = r.err.split('\n');
    expect(errs).toEqual([`${join(d, 'bad.litmus')}:7: unknown instruction: token 'MOVE'`, `${join(d, 'missing.litmus')}: no such file`]);
    expect(r.out).toContain('Observation SB Sometimes 1 3');
  });
});

describe('tlbcheck litmus, the real binary', () => {
  it('a malformed file: one line on stderr, no stack trace, exit 2; a good one still prints', () => {
    const d = tempDir();
    writeFileSync(join(d, 'bad.litmus'), SB.replace('exists', 'exits'));
    writeFileSync(join(d, 'SB.litmus'), SB);
    const bin = join(import.meta.dirname, '..', 'bin', 'tlbcheck.js');
    const r = spawnSync(process.execPath, [bin, 'litmus', join(d, 'bad.litmus'), join(d, 'SB.litmus')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`${join(d, 'bad.litmus')}:8: a row of thread code or a final condition expected, found token 'exits' (no ';' ends this row)`]);
    expect(r.stdout).toContain('Observation SB Sometimes 1 3');
  });
});

describe('litmus parser', () => {
  const err = (src: string): string => {
    try {
      runLitmus(parseLitmus(src));
    } catch (e) {
      if (e instanceof LitmusSyntaxError) return `${e.line}: ${e.message}`;
      throw e;
    }
    return 'no error';
  };

  it('names the line and the token of each kind of error', () => {
    expect(err('ARM SB\n{}\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n')).toBe("1: expected the header 'X86 NAME', found token 'ARM'");
    expect(err('X86 t\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1 /\\ )\n')).toMatch(/^5: .*token '\)'/);
    expect(err('X86 t\n{ x=0; }\n P0 | P2 ;\n MOV [x],$1 | ;\nexists (x=1)\n')).toMatch(/^3: .*token 'P2'/);
    expect(err('X86 t\n{ x=0; }\n P0 ;\n MOV [x],$1 | MFENCE ;\nexists (x=1)\n')).toMatch(/^4: more cells than columns: token 'MFENCE'/);
    expect(err('X86 t\n(* open\n{ x=0; }\n')).toMatch(/^2: .*token '\(\*'/);
    expect(err('X86 t\n{ A:u=p; 0:CR3=A; }\n P0 | P1 ;\n IPI 1 | ;\nexists (0:EAX=p)\n')).toMatch(/^4: IPI to thread 1, which has no handler column H1: token '1'/);
    expect(err('X86 t\n{ A:u=p; 0:CR3=A; }\n P0 ;\n ACCESS EAX,u ;\nexists (0:EAX=q)\n')).toBe("5: unknown page name: token 'q'");
    expect(err('X86 t\nFeatures=pcid,nx\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n')).toMatch(/^2: unknown feature.*token 'nx'/);
    expect(err('X86 t\n{ x=0; }\n P0 ;\n ADD [x],$1 ;\nexists (x=1)\n')).toMatch(/^4: ADD on memory needs LOCK/);
    expect(err('X86 t\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1 /\\\n 1:EAX=0)\n')).toBe("6: no thread 1: token '1:EAX'");
  });

  it('/\\ binds tighter than \\/, and ~ negates', () => {
    const one = (cond: string): LitmusResult =>
      runLitmus(parseLitmus(`X86 t\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nMOV EAX,[x] ;\n${cond}\n`));
    // x=1 /\ 0:EAX=1 always; (x=2 \/ x=1) /\ 0:EAX=0 never.
    expect(one('forall (x=2 \\/ x=1 /\\ 0:EAX=1)').observation).toBe('Always');
    expect(one('exists ((x=2 \\/ x=1) /\\ 0:EAX=0)').observation).toBe('Never');
    expect(one('exists (~(x=1) \\/ [x]=2)').observation).toBe('Never');
    expect(one('~exists (x=1)').ok).toBe(false);
  });

  it('locations [...] adds what the final states show; XCHG, LOCK XADD and register MOV move values', () => {
    const t = parseLitmus(
      'X86 t\n{ x=5; 0:EAX=7; }\n P0 ;\n XCHG EAX,[x] ;\n MOV EBX,EAX ;\n LOCK XADD [x],EBX ;\nlocations [x; 0:EAX;]\nforall (0:EBX=7)\n',
    );
    const r = runLitmus(t);
    expect(r.states).toEqual(['0:EAX=5; 0:EBX=7; x=12;']);
    expect(formatLitmus(r)[0]).toBe('Test t Required');
  });
});

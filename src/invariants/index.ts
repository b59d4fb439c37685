/** The invariant catalogue. */
import { kernelAssertion, noCpuFault, noDeadlock, stepLimit } from './builtin.ts';
import { noStaleTlbUse } from './no-stale-tlb-use.ts';
import { noWalkThroughFreedTable } from './no-walk-through-freed-table.ts';
import { noStaleKernelTranslation } from './no-stale-kernel-translation.ts';
import { perMmStateCoherent } from './per-mm-state-coherent.ts';
import { noUseAfterFreePage } from './no-use-after-free-page.ts';
import { accessThroughOwnMm } from './access-through-own-mm.ts';
import { noDeadMmTranslation } from './no-dead-mm-translation.ts';
import type { Invariant } from './types.ts';

export const INVARIANTS: readonly Invariant[] = [
  noStaleTlbUse,
  noWalkThroughFreedTable,
  noStaleKernelTranslation,
  perMmStateCoherent,
  // Before no-use-after-free-page: a dead mm's entry usually maps a page its exit freed, and
  // the dead mm is the cause. It cannot break where no mm dies, so no other verdict moves.
  noDeadMmTranslation,
  noUseAfterFreePage,
  kernelAssertion,
  noCpuFault,
  noDeadlock,
  stepLimit,
  accessThroughOwnMm,
];

export type { Invariant, Violation } from './types.ts';

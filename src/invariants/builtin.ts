/**
 * The invariants whose checks live in the engine rather than in a predicate file: kernel
 * assertions, CPU faults, deadlock and the step limit.
 */
import type { Invariant } from './types.ts';

export const kernelAssertion: Invariant = {
  id: 'kernel-assertion',
  title: "the kernel's own WARN_ON/BUG_ON conditions never fire",
  encodes: 'WARN_ON_ONCE / VM_WARN_ON / BUG_ON in the modelled routines',
  scope: 'wherever the routine states them',
};

export const noCpuFault: Invariant = {
  id: 'no-cpu-fault',
  title: 'no modelled instruction faults (#UD, #GP)',
  encodes: 'e.g. INVPCID on a CPU without X86_FEATURE_INVPCID raises #UD (seed 000)',
  scope: 'every instruction of every routine',
  observes: ['fault'],
  check: (o, cx) => (o.o === 'fault' ? { invariant: 'no-cpu-fault', cpu: o.cpu, step: cx.step, message: o.what } : undefined),
};

export const noDeadlock: Invariant = {
  id: 'no-deadlock',
  title: 'an execution never reaches a state where unfinished CPUs can all no longer move',
  encodes: 'smp_call_function_many(wait=1) must not wait on a CPU that cannot take the IPI',
  scope: 'every execution',
};

export const stepLimit: Invariant = {
  id: 'step-limit',
  title: 'an execution ends within its step budget (no livelock)',
  encodes: 'every routine terminates; a step limit usually means a spin loop',
  scope: 'every execution, relative to the steps bound',
};

/** The engine's invariants: always checked, whatever a scenario's `invariants` lists. */
export const ENGINE_INVARIANTS: readonly Invariant[] = [kernelAssertion, noCpuFault, noDeadlock, stepLimit];

/**
 * What a check is (variant, scenario, parameters, features, bounds) and what is the same for
 * every execution of it: the scenario's world, the memory layout, the machine constructor, the
 * atomicity rules and the monitor of its invariants.
 */
import { Machine, type MachineInit } from '../machine/machine.ts';
import type { Bounds, Features } from '../machine/types.ts';
import { Layout } from '../kernel/layout.ts';
import { PageKind } from '../machine/types.ts';
import type { Variant } from '../kernel/variant.ts';
import type { Scenario, ScenarioParams, World } from '../scenario/world.ts';
import { Monitor } from '../invariants/monitor.ts';
import { type Atomicity, COARSE_STEPS } from './atomicity.ts';

export interface CheckConfig {
  readonly variant: Variant;
  readonly scenario: Scenario;
  readonly params: ScenarioParams;
  readonly features: Features;
  readonly bounds: Bounds;
  /**
   * Effects one routine may run inside one step (instant effects and glued ones) before the
   * step is reported as a spin loop that never yields a step (`--max-step-effects`).
   */
  readonly stepEffects?: number;
}

/** Default of `CheckConfig.stepEffects`: far above any real routine's step (tens of effects). */
export const DEFAULT_STEP_EFFECTS = 10_000;

/** Everything that is the same for every execution of a check. */
export interface Model {
  readonly cfg: CheckConfig;
  readonly world: World;
  readonly layout: Layout;
  /** Machine constructor; tests swap in a deliberately broken one. */
  readonly makeMachine: (init: MachineInit) => Machine;
  readonly atomicity: Atomicity;
  /** The state invariants the scenario checks (invariants/monitor.ts). */
  readonly monitor: Monitor;
}

export function prepare(cfg: CheckConfig, makeMachine?: (init: MachineInit) => Machine, atomicity: Atomicity = COARSE_STEPS): Model {
  const world = cfg.scenario.build(cfg.params);
  // With INVLPGB, finish_asid_transition() (6.15+) reads other CPUs' loaded_mm_asid: it is
  // shared data then (in TSO memory), and stays private without the feature, as before.
  const shared = cfg.features.invlpgb === true ? new Set([...cfg.variant.sharedPcpu, 'loaded_mm_asid' as const]) : cfg.variant.sharedPcpu;
  // A variant's own state: per-CPU variables (private to their CPU) and mm_struct fields (shared).
  const own = cfg.variant.extraState;
  const extras = [
    ...(world.extraVars ?? []),
    ...(own ? Array.from({ length: cfg.params.cpus }, (_, c) => own.pcpu.map((f) => ({ name: `cpu${c}.${f}`, owner: c }))).flat() : []),
    ...(own ? world.mms.flatMap((mm) => own.mm.map((f) => ({ name: `${mm.name}.${f}`, owner: -1 }))) : []),
  ];
  const layout = new Layout(world.pages.length, world.mms, cfg.params.cpus, shared, extras);
  layout.nameTables(world.memory, (pfn) => (world.pages[pfn]?.owner ?? 0) < 0);
  // mm lifetimes: the names of the mms that live at each slot, in order.
  for (const l of world.laterMms ?? []) {
    const atBoot = world.pages[layout.mm(l.slot).pgd]?.kind !== PageKind.Free;
    const before = world.laterMms!.filter((x) => x.slot === l.slot);
    if (before[0] === l) layout.setLives(l.slot, [...(atBoot ? [layout.mmName(l.slot)] : []), ...before.map((x) => x.name)], atBoot);
  }
  const monitor = new Monitor(layout, cfg.scenario.invariants);
  return { cfg, world, layout, makeMachine: makeMachine ?? ((init) => new Machine(init)), atomicity, monitor };
}

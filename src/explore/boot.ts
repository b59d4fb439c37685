/**
 * The initial state of a check: the machine as the scenario's world and the variant's boot code
 * leave it (pages, memory, each boot mm's context id and refcounts, CR3 and prefilled TLBs from
 * the variant's `initCpu`), the ghost state, and the task table. The programs' first frames
 * are started by the step (sim.ts), since running them is the step's job.
 */
import { ModelError } from '../errors.ts';
import { Ghost } from '../invariants/ghost.ts';
import { bootRefcounts } from '../kernel/common/mm-life.ts';
import { NO_MM } from '../kernel/layout.ts';
import type { SetupCtx } from '../kernel/variant.ts';
import type { Machine } from '../machine/machine.ts';
import { PageKind } from '../machine/types.ts';
import type { Frame } from './frames.ts';
import type { Model } from './model.ts';
import { TaskTable } from './tasks.ts';

export interface Booted {
  readonly m: Machine;
  readonly ghost: Ghost;
  readonly tasks: TaskTable<Frame>;
}

export function boot(model: Model): Booted {
  const { cfg, world, layout } = model;
  const routines = cfg.variant.routines;
  const m = model.makeMachine({
    features: cfg.features,
    bounds: cfg.bounds,
    cpus: cfg.params.cpus,
    pages: world.pages.length,
    vars: layout.count,
    varOwner: layout.owners,
    varWriter: layout.writers,
    vas: world.vas,
  });
  world.pages.forEach((p, pfn) => m.setPage(pfn, p.kind, p.owner));
  for (const [loc, v] of world.memory) m.poke(loc, v);
  // init_new_context() of each boot mm (ctx_id; init_mm's is 1, INIT_MM_CONTEXT), and the
  // counter it took them from (4.13+ last_mm_ctx_id).
  // An mm slot whose pgd page is free at boot holds no mm yet (a fork allocates one there).
  const alive = layout.mms.filter((mm) => world.pages[mm.pgd]?.kind !== PageKind.Free);
  for (const mm of alive) m.poke(layout.mmField(mm.id, 'ctx_id'), mm.ctxId);
  const lastCtx = layout.findVar('last_mm_ctx_id');
  if (lastCtx !== undefined) m.poke(lastCtx, Math.max(...alive.map((x) => x.ctxId)));
  bootRefcounts(world, layout, alive, (loc, v) => m.poke(loc, v));
  // setup_pcid() cleared PCID: the kernel never sets CR4.PCIDE (common/setup-pcid.ts).
  const kf = cfg.variant.cpuCaps?.(cfg.features) ?? cfg.features;
  if (cfg.features.pcid && !kf.pcid) for (let c = 0; c < cfg.params.cpus; c++) m.bootPcide(c, false);
  const setup: SetupCtx = {
    L: layout,
    features: kf,
    poke: (loc, v) => m.poke(loc, v),
    peek: (loc) => m.mem[loc]!,
    setCr3: (c, root, pcid) => m.bootCr3(c, root, pcid),
    prefill: (c, root, pcid, va) => m.prefill(c, root, pcid, va),
    setIrq: (c, on) => m.setIrq(c, on),
  };
  const ghost = new Ghost(cfg.params.cpus);
  const extra = world.tasks ?? [];
  for (const t of extra) if (t.cpu >= cfg.params.cpus) throw new ModelError(`task ${t.name} runs on cpu${t.cpu}, which this run does not have (--cpus ${cfg.params.cpus})`);
  const tasks = new TaskTable<Frame>(
    cfg.params.cpus,
    [...world.cpuStart.map((_, c) => c), ...extra.map((t) => t.cpu)],
    [...world.cpuStart.map((st) => (st.mode === 'user' ? st.mm : NO_MM)), ...extra.map((t) => t.mm)],
    extra.length > 0 ? (world.preemptions ?? 0) : 0,
    world.nmi?.budget ?? 0,
  );
  if (world.nmi && typeof routines.copy_from_user_nmi !== 'function') {
    throw new ModelError(`scenario ${cfg.scenario.id} sends NMIs whose handler calls copy_from_user_nmi(), which ${cfg.variant.id} does not define`);
  }
  for (let c = 0; c < cfg.params.cpus; c++) {
    const start = world.cpuStart[c]!;
    routines.initCpu(setup, c, start);
    if (start.mode === 'user') ghost.userMm[c] = start.mm;
  }
  return { m, ghost, tasks };
}

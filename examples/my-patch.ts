/**
 * An example user variant: Linux 4.13 with a "harmless-looking" patch that moves the
 * cpumask_set_cpu() of switch_mm_irqs_off() after the CR3 load. Check it with
 *
 *   npx tlbcheck check --variant ./examples/my-patch.ts --scenario switch-vs-flush
 *   npx tlbcheck gate --variant ./examples/my-patch.ts
 *
 * Expected: violates no-stale-tlb-use (the ordering comment of seed 004 exists for this).
 */
import { derive, fx, getVariant, type K, type R413 } from 'tlbcheck';

const base = getVariant<R413>('linux-4.13');

export default derive(base, {
  id: 'my-patch',
  title: 'switch_mm_irqs_off: set the cpumask bit after load_cr3',
  routines: {
    switch_mm_irqs_off: function* (k: K<R413>, _prev: number, next: number) {
      yield* fx.call(
        'switch_mm_irqs_off',
        (function* () {
          const L = k.L;
          const realPrev = yield* fx.load(L.pcpu(k.cpu, 'loaded_mm'));
          if (realPrev === next) return;
          yield* fx.store(L.pcpu(k.cpu, 'loaded_mm'), next);
          yield* k.r.load_cr3(k, next, 'load_cr3 first');
          yield* fx.lockBts(L.cpumask(next), k.cpu, 'cpumask_set_cpu after');
          yield* fx.lockBtr(L.cpumask(realPrev), k.cpu);
        })(),
      );
    },
  },
});

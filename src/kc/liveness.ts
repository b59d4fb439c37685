/**
 * Liveness of locals over compiled bytecode (a backward dataflow to a fixpoint). A local is
 * dead at a pc when no path from there reads it before writing it; the interpreter resets
 * dead locals at each effect point, so two calls that differ only in dead values are the
 * same data. A local whose address is taken may be written by a callee and is never dead.
 */
import type { CFunction } from './ir.ts';

/** Backward liveness over the bytecode: for each pc, the locals whose value is never read again. */
export function deadLocals(fn: CFunction): (readonly number[])[] {
  const n = fn.code.length;
  const nl = fn.locals.length;
  const live: Set<number>[] = Array.from({ length: n + 1 }, () => new Set<number>());
  const succ = (pc: number): number[] => {
    const op = fn.code[pc]!;
    switch (op.o) {
      case 'jmp':
        return [op.t];
      case 'jz':
      case 'jnz':
        return [pc + 1, op.t];
      case 'ret':
      case 'retv':
        return [];
      default:
        return [pc + 1];
    }
  };
  // A local whose address is taken (an out-parameter) may be written by a callee: never dead.
  const addressTaken = new Set<number>();
  for (const op of fn.code) if (op.o === 'lref') addressTaken.add(op.i);
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      const op = fn.code[pc]!;
      const s = new Set<number>();
      for (const q of succ(pc)) for (const x of live[q] ?? []) s.add(x);
      if (op.o === 'st') s.delete(op.i);
      if (op.o === 'ld' || op.o === 'stf') s.add(op.i);
      for (const x of addressTaken) s.add(x);
      const old = live[pc]!;
      if (s.size !== old.size || [...s].some((x) => !old.has(x))) {
        live[pc] = s;
        changed = true;
      }
    }
  }
  return live.slice(0, n).map((s) => {
    const d: number[] = [];
    for (let i = 0; i < nl; i++) if (!s.has(i)) d.push(i);
    return d;
  });
}

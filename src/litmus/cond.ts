/**
 * Final states and conditions: a state is the values of the locations and registers a test
 * observes (plus the invariant a violation ended it with); a condition's proposition is
 * evaluated on each; herd7's verdict lines follow from the counts.
 */
import { INVARIANTS } from '../invariants/index.ts';
import type { Condition, Lhs, Prop } from './ast.ts';
import { LitmusSyntaxError } from './tokens.ts';

export interface FinalState {
  readonly vals: ReadonlyMap<string, number>;
  /** Invariant id of the violation that ended this execution, if any (`violation=none` otherwise). */
  readonly violation?: string;
}

export const lhsKey = (l: Lhs): string => (l.k === 'reg' ? `${l.tid}:${l.r}` : l.k === 'loc' ? l.name : 'violation');

/** Check the names on the right of atoms: pages (for values) and invariant ids (for `violation`). */
export function checkProp(p: Prop, pages: ReadonlyMap<string, number>): void {
  if (p.k === 'and' || p.k === 'or') {
    checkProp(p.a, pages);
    checkProp(p.b, pages);
  } else if (p.k === 'not') checkProp(p.a, pages);
  else if (p.k === 'atom') {
    if (p.lhs.k === 'violation') {
      const id = p.rhs.k === 'name' ? p.rhs.id : '';
      if (id !== 'none' && !INVARIANTS.some((i) => i.id === id)) {
        const tok = p.rhs.k === 'name' ? p.rhs.id : String(p.rhs.v);
        throw new LitmusSyntaxError(p.line, `violation= needs 'none' or an invariant id (${INVARIANTS.map((i) => i.id).join(', ')}): token '${tok}'`);
      }
    } else if (p.rhs.k === 'name' && !pages.has(p.rhs.id)) {
      throw new LitmusSyntaxError(p.line, `unknown page name: token '${p.rhs.id}'`);
    }
  }
}

export function holds(p: Prop, s: FinalState, pages: ReadonlyMap<string, number>): boolean {
  switch (p.k) {
    case 'const':
      return p.v;
    case 'not':
      return !holds(p.a, s, pages);
    case 'and':
      return holds(p.a, s, pages) && holds(p.b, s, pages);
    case 'or':
      return holds(p.a, s, pages) || holds(p.b, s, pages);
    case 'atom': {
      if (p.lhs.k === 'violation') return p.rhs.k === 'name' && (s.violation ?? 'none') === p.rhs.id;
      const v = s.vals.get(lhsKey(p.lhs));
      const want = p.rhs.k === 'num' ? p.rhs.v : pages.get(p.rhs.id);
      return v !== undefined && v === want;
    }
  }
}

const showRhs = (p: Extract<Prop, { k: 'atom' }>): string => (p.rhs.k === 'num' ? String(p.rhs.v) : p.rhs.id);

export function formatProp(p: Prop): string {
  switch (p.k) {
    case 'const':
      return p.v ? 'true' : 'false';
    case 'not':
      return `~${wrap(p.a)}`;
    case 'and':
      return `${wrap(p.a, 'and')} /\\ ${wrap(p.b, 'and')}`;
    case 'or':
      return `${wrap(p.a, 'or')} \\/ ${wrap(p.b, 'or')}`;
    case 'atom':
      return `${lhsKey(p.lhs)}=${showRhs(p)}`;
  }
}

function wrap(p: Prop, parent?: 'and' | 'or'): string {
  if (p.k === 'atom' || p.k === 'const' || p.k === 'not' || p.k === parent) return formatProp(p);
  return `(${formatProp(p)})`;
}

export const formatCondition = (c: Condition): string => `${c.quant} (${formatProp(c.prop)})`;

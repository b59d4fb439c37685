/**
 * herd7 final conditions: `exists`, `~exists`, `forall` over atoms `0:EAX=1`, `x=2`, `[x]=2`
 * (and the extension's `violation=ID`), with `/\`, `\/`, `~` and parentheses. `/\` binds
 * tighter than `\/`.
 */
import type { Condition, Lhs, Prop } from './ast.ts';
import type { Cursor } from './tokens.ts';

export function parseCondition(c: Cursor): Condition {
  let quant: Condition['quant'];
  if (c.accept('~')) {
    if (!c.isId('exists')) c.fail("'exists' after '~'");
    c.next();
    quant = '~exists';
  } else if (c.isId('exists') || c.isId('forall')) {
    quant = c.next().text.toLowerCase() === 'forall' ? 'forall' : 'exists';
  } else {
    return c.fail("a final condition ('exists', '~exists' or 'forall')");
  }
  const prop = disj(c);
  if (c.peek().kind !== 'eof') c.fail('the end of the condition');
  return { quant, prop };
}

function disj(c: Cursor): Prop {
  let p = conj(c);
  while (c.accept('\\/')) p = { k: 'or', a: p, b: conj(c) };
  return p;
}

function conj(c: Cursor): Prop {
  let p = unary(c);
  while (c.accept('/\\')) p = { k: 'and', a: p, b: unary(c) };
  return p;
}

function unary(c: Cursor): Prop {
  if (c.accept('~') || (c.isId('not') && c.next())) return { k: 'not', a: unary(c) };
  if (c.accept('(')) {
    const p = disj(c);
    c.sym(')');
    return p;
  }
  if (c.isId('true') || c.isId('false')) return { k: 'const', v: c.next().text.toLowerCase() === 'true' };
  const line = c.peek().line;
  const lhs = parseLhs(c);
  c.sym('=');
  const t = c.peek();
  if (t.kind === 'num') return { k: 'atom', lhs, rhs: { k: 'num', v: c.num() }, line };
  if (t.kind === 'id') return { k: 'atom', lhs, rhs: { k: 'name', id: c.next().text }, line };
  return c.fail('a value');
}

/** `0:EAX`, `x`, `[x]`, `A:u.D` or `violation`. */
export function parseLhs(c: Cursor): Lhs {
  const t = c.peek();
  if (t.kind === 'num' && c.isSym(':', 1)) {
    const tid = c.num();
    c.next();
    return { k: 'reg', tid, r: c.id('a register').text.toUpperCase() };
  }
  if (c.accept('[')) {
    const name = c.id('a location').text;
    c.sym(']');
    return { k: 'loc', name };
  }
  if (t.kind === 'id' && c.isSym(':', 1)) {
    // `A:u.D`: a flag (A, D or W) of the leaf entry of va u in mm A.
    c.next();
    c.next();
    return { k: 'loc', name: `${t.text}:${c.id('va.A, va.D or va.W after mm:').text}` };
  }
  if (t.kind === 'id') {
    c.next();
    return t.text === 'violation' ? { k: 'violation' } : { k: 'loc', name: t.text };
  }
  return c.fail("a register '0:EAX' or a location");
}

/**
 * Tokenizer for litmus files: identifiers, numbers, quoted strings and the few symbols of
 * herd7's X86 syntax (`/\` and `\/` included). Each token carries its line for one-line
 * error messages. OCaml-style `(* comments *)` are blanked out first, keeping line breaks.
 */

export type TokKind = 'id' | 'num' | 'str' | 'sym' | 'eof';

export interface Tok {
  readonly kind: TokKind;
  readonly text: string;
  readonly line: number;
}

/** A syntax error at a line, naming the offending token. */
export class LitmusSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export const describeTok = (t: Tok): string => (t.kind === 'eof' ? 'end of file' : `token '${t.text}'`);

/** Replace `(* ... *)` (nested) by spaces, keeping newlines so that line numbers hold. */
export function blankComments(src: string): string {
  let out = '';
  let depth = 0;
  let line = 1;
  let openLine = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '(' && src[i + 1] === '*') {
      if (depth === 0) openLine = line;
      depth++;
      out += '  ';
      i++;
    } else if (depth > 0 && c === '*' && src[i + 1] === ')') {
      depth--;
      out += '  ';
      i++;
    } else {
      if (c === '\n') line++;
      out += depth > 0 && c !== '\n' ? ' ' : c;
    }
  }
  if (depth > 0) throw new LitmusSyntaxError(openLine, "unterminated comment: token '(*' is never closed");
  return out;
}

const SYMS = ['/\\', '\\/', '[', ']', '(', ')', '{', '}', ';', ',', '|', ':', '=', '$', '~'];

/** Tokens of `src`, whose first line is `firstLine`. */
export function tokenize(src: string, firstLine: number): Tok[] {
  const toks: Tok[] = [];
  let line = firstLine;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = /^-?(0x[0-9a-fA-F]+|\d+)/.exec(rest);
    if (num && (c !== '-' || /\d/.test(src[i + 1] ?? ''))) {
      toks.push({ kind: 'num', text: num[0], line });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.+-]*/.exec(rest);
    if (id) {
      toks.push({ kind: 'id', text: id[0], line });
      i += id[0].length;
      continue;
    }
    if (c === '"') {
      const end = src.indexOf('"', i + 1);
      if (end < 0 || src.slice(i, end).includes('\n')) throw new LitmusSyntaxError(line, "unterminated string: token '\"'");
      toks.push({ kind: 'str', text: src.slice(i + 1, end), line });
      i = end + 1;
      continue;
    }
    const sym = SYMS.find((s) => rest.startsWith(s));
    if (!sym) throw new LitmusSyntaxError(line, `unexpected character: token '${c}'`);
    toks.push({ kind: 'sym', text: sym, line });
    i += sym.length;
  }
  toks.push({ kind: 'eof', text: '', line });
  return toks;
}

export const parseNum = (text: string): number => (text.startsWith('-') ? -Number(text.slice(1)) : Number(text));

/** A cursor over tokens with the usual expect/accept helpers. */
export class Cursor {
  private i = 0;
  constructor(private readonly toks: readonly Tok[]) {}

  peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  next(): Tok {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  isSym(s: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'sym' && t.text === s;
  }

  isId(word?: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'id' && (word === undefined || t.text.toUpperCase() === word.toUpperCase());
  }

  accept(s: string): boolean {
    if (!this.isSym(s)) return false;
    this.next();
    return true;
  }

  fail(what: string, t: Tok = this.peek()): never {
    throw new LitmusSyntaxError(t.line, `expected ${what}, found ${describeTok(t)}`);
  }

  sym(s: string): Tok {
    if (!this.isSym(s)) this.fail(`'${s}'`);
    return this.next();
  }

  id(what = 'a name'): Tok {
    if (this.peek().kind !== 'id') this.fail(what);
    return this.next();
  }

  num(what = 'a number'): number {
    if (this.peek().kind !== 'num') this.fail(what);
    return parseNum(this.next().text);
  }
}

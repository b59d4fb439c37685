/**
 * The C parser: tree-sitter's C grammar (npm `tree-sitter-c`, its prebuilt WebAssembly file)
 * run by `web-tree-sitter`. Nothing is built natively and nothing is downloaded at run time:
 * both files ship inside the npm packages. Loading is asynchronous (WebAssembly), so callers
 * await `cParser()` once; parsing itself is synchronous.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';

export type { Node } from 'web-tree-sitter';

let ready: Promise<Parser> | undefined;

/** The shared parser, loaded on first use. */
export function cParser(): Promise<Parser> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const lang = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
    const p = new Parser();
    p.setLanguage(lang);
    return p;
  })();
  return ready;
}

/** Where a node starts, 1-based, for `file:line:col` messages. */
export const lineCol = (n: Node): { line: number; col: number } => ({ line: n.startPosition.row + 1, col: n.startPosition.column + 1 });

/** The first syntax error of a tree (an ERROR or MISSING node), if any. */
export function firstSyntaxError(n: Node): Node | undefined {
  if (!n.hasError) return undefined;
  if (n.isError || n.isMissing) return n;
  for (const c of n.children) {
    if (!c) continue;
    const e = firstSyntaxError(c);
    if (e) return e;
  }
  return n;
}

/**
 * Type-check a user's TypeScript variant file before it runs: a routine that passes the wrong
 * argument or reads a field that does not exist would otherwise run and give a verdict about
 * some other model. The check uses the project's own compiler settings, with `tlbcheck`
 * mapped to this package's sources, so a file anywhere on disk checks the same way.
 *
 * Only the user's file's diagnostics are reported (the first one, as file:line:col), not those
 * of the package. It costs a few seconds (the compiler loads the package's types), paid once
 * per file and worker; `TLBCHECK_NO_TYPECHECK=1` skips it for quick iteration.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const INDEX = fileURLToPath(new URL('../index.ts', import.meta.url));

const PKG = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(PKG, 'node_modules', '.cache', 'tlbcheck-typecheck');

/** The newest modification time under `dir` (the package's sources, for the cache key). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The first type error of `file`, as `file:line:col: message`, or undefined. A file that passed
 * is remembered (by its content and the package sources' age) in node_modules/.cache, so a
 * gate's workers and repeated checks of the same patch pay the compiler once.
 */
export function firstTypeError(file: string): string | undefined {
  let key: string | undefined;
  try {
    key = createHash('sha256').update(readFileSync(file)).update(`${newest(join(PKG, 'src'))}:${ts.version}`).digest('hex');
    if (existsSync(join(CACHE, key))) return undefined;
  } catch {
    key = undefined;
  }
  const err = compile(file);
  if (err === undefined && key !== undefined) {
    try {
      mkdirSync(CACHE, { recursive: true });
      writeFileSync(join(CACHE, key), '');
    } catch {
      // a cache that cannot be written only costs time
    }
  }
  return err;
}

function compile(file: string): string | undefined {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    esModuleInterop: true,
    // Node's own types are left out: they cost most of the check's time, and a variant file
    // only meets them through tlbcheck's exports, which do not use them.
    types: [],
    paths: { tlbcheck: [INDEX] },
  };
  const program = ts.createProgram([file], options);
  const source = program.getSourceFile(file);
  if (!source) return `${file}: cannot be read`;
  const diags = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  const d = diags.find((x) => x.category === ts.DiagnosticCategory.Error);
  if (!d) return undefined;
  const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1}: ${msg} (TS${d.code})`;
  }
  return `${file}: ${msg} (TS${d.code})`;
}

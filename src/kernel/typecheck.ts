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
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const INDEX = fileURLToPath(new URL('../index.ts', import.meta.url));

/** The first type error of `file`, as `file:line:col: message`, or undefined. */
export function firstTypeError(file: string): string | undefined {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    esModuleInterop: true,
    types: ['node'],
    typeRoots: [fileURLToPath(new URL('../../node_modules/@types', import.meta.url))],
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

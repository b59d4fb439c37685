/**
 * JUnit XML for CI: one <testcase> per gate row, a <failure> for each mismatch. Escaping is
 * done here, by hand and completely: the five XML entities, and characters XML 1.0 forbids
 * are dropped. Pure: the CLI writes the file.
 */

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly seconds: number;
  /** Set for a failed row: a one-line message and the details. */
  readonly failure?: { readonly message: string; readonly details: string };
  readonly output?: string;
}

export const JUNIT_SUITES_NAME = 'tlbcheck gate';

export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitXml(suite: string, cases: readonly JunitCase[]): string {
  const failures = cases.filter((c) => c.failure).length;
  const time = cases.reduce((t, c) => t + c.seconds, 0).toFixed(3);
  const head = `tests="${cases.length}" failures="${failures}" errors="0" time="${time}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(JUNIT_SUITES_NAME)}" ${head}>`,
    `  <testsuite name="${xmlEscape(suite)}" ${head}>`,
  ];
  for (const c of cases) {
    const attrs = `classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.seconds.toFixed(3)}"`;
    if (!c.failure && c.output === undefined) {
      lines.push(`    <testcase ${attrs}/>`);
      continue;
    }
    lines.push(`    <testcase ${attrs}>`);
    if (c.failure) lines.push(`      <failure message="${xmlEscape(c.failure.message)}" type="gate-mismatch">${xmlEscape(c.failure.details)}</failure>`);
    if (c.output !== undefined) lines.push(`      <system-out>${xmlEscape(c.output)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

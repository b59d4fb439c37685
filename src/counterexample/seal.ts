/**
 * The file digest of a counterexample (schemas `tlbcheck-counterexample/2` to `/4`): SHA-256 over the
 * canonical JSON (object keys sorted, undefined dropped) of every field of the file except
 * `digest` itself. So an edit of anything replay reads or shows - the trace text, the tape, the
 * message, the invariant, the bounds - makes the file disagree with its own digest, and
 * `loadCounterexample` reports it as tampered. A field added later (optional) is covered
 * without a change here.
 *
 * It is a consistency check, not a signature: whoever edits a file can also recompute its
 * digest. What keeps a file from a stranger harmless is that replay never imports code named
 * by it (`src/cli/replay.ts`).
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The digest a file with these fields must carry (its own `digest` field is ignored). */
export function fileDigest(file: Readonly<Record<string, unknown>>): string {
  const { digest: _ignored, ...rest } = file;
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}

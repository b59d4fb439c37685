/**
 * Writing the user's output files safely: create a directory without Node's recursive mkdir
 * (which loops forever on paths such as /proc/x), and write a file in one piece (a temporary
 * file renamed into place), never over a file that is already there. Every failure is one
 * UserError line naming the path and the reason.
 */
import { closeSync, existsSync, linkSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from './errors.ts';

const why = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EEXIST':
      return 'it already exists';
    default:
      return err.code ?? (e instanceof Error ? e.message : String(e));
  }
};

/** Make `dir` and its missing parents, one level at a time. */
export function ensureDir(dir: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot create directory ${dir}: ${why(e)}`);
      const up = dirname(p);
      if (up === p) throw new UserError(`cannot create directory ${dir}: no existing parent`);
      missing.push(p);
      p = up;
      continue;
    }
    if (!st.isDirectory()) throw new UserError(`cannot create directory ${dir}: ${p} is not a directory`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new UserError(`cannot create directory ${dir}: ${why(e)}`);
    }
  }
}

/**
 * Write `text` to `path`, which must not exist yet: written to a temporary file in the same
 * directory, then linked into place (so a reader never sees half a file, and an existing file
 * is never replaced). Returns false when `path` already exists.
 */
export function writeNewFile(path: string, text: string): boolean {
  ensureDir(dirname(path));
  if (existsSync(path)) return false;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    return true;
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${why(e)}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone, or never made
    }
  }
}

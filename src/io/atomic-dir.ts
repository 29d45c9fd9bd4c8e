// Directories replaced atomically: written under a temporary name, then swapped in by rename, so a
// reader (or a resumed run) sees either the old complete directory or the new complete one. One writer
// per directory at a time.

import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathExists } from './path-exists.js';
import { isRunning } from './process-alive.js';

/**
 * Runs `write(tmpDir)` and then makes tmpDir appear at `dir`, replacing any previous content. A crash at
 * any point leaves a complete directory at `dir` or, between the two renames, at `dir.old`; the next call
 * first puts such a `dir.old` back, so a second crash cannot lose it.
 */
export async function replaceDir(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  if (!(await pathExists(dir)) && (await pathExists(old))) await rename(old, dir);
  await removeStaleTemporaries(dir);
  await mkdir(tmp, { recursive: true });
  await write(tmp);
  await rm(old, { recursive: true, force: true });
  if (await pathExists(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The complete directory at `dir`, or the previous one if a crash fell between the two renames. */
export async function completeDir(dir: string): Promise<string | undefined> {
  if (await pathExists(dir)) return dir;
  if (await pathExists(`${dir}.old`)) return `${dir}.old`;
  return undefined;
}

/**
 * Removes `dir.tmp-<pid>` folders that interrupted writes left behind (never complete copies), unless
 * their process is still running.
 */
async function removeStaleTemporaries(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.tmp-`;
  const siblings = await readdir(dirname(dir)).catch(() => [] as string[]);
  for (const name of siblings) {
    const pid = name.slice(prefix.length);
    if (
      name.startsWith(prefix) &&
      /^\d+$/.test(pid) &&
      (Number(pid) === process.pid || !isRunning(Number(pid)))
    )
      await rm(join(dirname(dir), name), { recursive: true, force: true });
  }
}

/**
 * Removes what an interrupted `replaceDir` left beside a complete `dir`: a `dir.old` (a stop during its
 * removal) and temporaries. A finished run calls this, since it replaces nothing more.
 */
export async function tidyReplacedDir(dir: string): Promise<void> {
  if (!(await pathExists(dir))) return;
  await rm(`${dir}.old`, { recursive: true, force: true });
  await removeStaleTemporaries(dir);
}

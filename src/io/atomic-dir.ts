// Directories replaced atomically: written under a temporary name, then swapped in by rename, so a
// reader (or a resumed run) sees either the old complete directory or the new complete one.

import { mkdir, rename, rm } from 'node:fs/promises';
import { pathExists } from './path-exists.js';

/** Runs `write(tmpDir)` and then makes tmpDir appear at `dir`, replacing any previous content. */
export async function replaceDir(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
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

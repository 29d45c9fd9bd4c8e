// One command per run directory: a lock file holding the owner's pid, so a second command started on the
// same directory is refused instead of writing into it beside the first (their checkpoints, logs and run
// records would mix). A lock whose process has died (killed, or stopped by a signal) is taken over.

import { link, mkdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './process-alive.js';

export const LOCK_FILE = '.plmkit.lock';

interface LockRecord {
  readonly pid: number;
  readonly command: string;
  readonly started: string;
}

/**
 * Creates `dir` if needed and locks it for this process; returns the function that unlocks it (and
 * removes `dir` again if it made it and nothing was written there). Errors name the directory: one that
 * cannot be created, or one another running command holds.
 */
export async function lockRunDir(dir: string, command: string): Promise<() => Promise<void>> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the run directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const path = join(dir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, command, started: new Date().toISOString() };
  // Written whole under another name, then linked into place: link() fails if the lock exists, and a
  // lock file is never seen half-written.
  const tmp = `${path}.${process.pid}.tmp`;
  const cannotWrite = (e: unknown) =>
    new Error(`cannot write in the run directory ${dir}: ${(e as Error).message}`, { cause: e });
  await writeFile(tmp, JSON.stringify(record) + '\n').catch((e: unknown) => {
    throw cannotWrite(e);
  });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotWrite(e);
        const owner = await readLock(path);
        if (attempt === 0 && (!owner || !isRunning(owner.pid))) {
          // Left by a process that no longer runs: take it over (once; a second EEXIST means another
          // process took it over first).
          await unlink(path).catch(() => undefined);
          continue;
        }
        throw new Error(
          `the run directory ${dir} is in use by plmkit ${owner?.command ?? 'another command'}` +
            (owner ? ` (pid ${owner.pid}, since ${owner.started})` : '') +
            `; wait for it to end or stop it (if no such process runs, remove ${path})`,
          { cause: e },
        );
      }
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return async () => {
    const owner = await readLock(path);
    if (owner?.pid === process.pid) await unlink(path).catch(() => undefined);
    // A directory made for a command that then wrote nothing (bad data, say) does not stay behind.
    if (created !== undefined) await rmdir(dir).catch(() => undefined);
  };
}

async function readLock(path: string): Promise<LockRecord | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockRecord>;
    return typeof v.pid === 'number'
      ? { pid: v.pid, command: String(v.command), started: String(v.started) }
      : undefined;
  } catch {
    return undefined; // unreadable: treated as left behind
  }
}

// Files written atomically: a temporary file in the same directory, synced, then renamed over the
// target, so a reader sees the old complete file or the new complete one, never a torn write.

import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isRunning } from './process-alive.js';

/** Removes temporary files that writes to `path` by processes no longer running left behind (killed). */
async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (m && !isRunning(Number(m[1]))) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

/**
 * Writes `chunks` to `path` atomically: into a temporary file in the same directory, fsynced, then renamed
 * over `path`. On failure the temporary file is removed and `path` is untouched.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
): Promise<void> {
  const chunks: Iterable<Uint8Array> =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  await removeStaleTemporaries(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // Errors name the file being written, not the temporary (ENOSPC names no file at all).
  const named = (e: unknown) => new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  const fh = await open(tmp, 'wx').catch((e: unknown) => {
    throw named(e);
  });
  let ok = false;
  try {
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, off, Math.min(chunk.byteLength - off, 1 << 30));
        off += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    ok = true;
  } catch (e) {
    throw named(e);
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
  }
}

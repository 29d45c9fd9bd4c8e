// The options a run directory was started with, kept in it (run.json, config.json): a later command on the
// same directory resumes it only with the same options, so an interrupted run never continues under other
// settings, and a finished one is never reported for options it did not run with.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { pathExists } from './path-exists.js';

/** Key under which a run records its model's weights fingerprint. */
export const MODEL_SHA256 = 'modelSha256';

/**
 * SHA-256 over a model directory's weight files (model.safetensors, or the shards its index names, in
 * order), so a run notices when the weights behind a path have changed. Undefined when there are none.
 */
export async function weightsFingerprint(dir: string): Promise<string | undefined> {
  // The files the reader loads, in its order of preference (readSafetensorsDir).
  const index = join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (await pathExists(join(dir, 'model.safetensors'))) files = ['model.safetensors'];
  else if (await pathExists(index)) {
    const map = (JSON.parse(await readFile(index, 'utf8')) as { weight_map?: Record<string, string> })
      .weight_map;
    files = [...new Set(Object.values(map ?? {}))].sort();
  } else return undefined;
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(`${f}\0`);
    for await (const chunk of createReadStream(join(dir, f))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

const show = (v: unknown) => (v === undefined || v === null ? 'absent' : JSON.stringify(v));

/**
 * Writes `options` to `file`; if the file is there already (a resumed run), first checks that every option
 * both records have is the same, except the `free` ones (where the directory is, how often it evaluates),
 * and refuses with the differences otherwise. `keys` names every option the command has: those not given
 * are recorded as null, so that giving one on a resumed run (or leaving out one given before) is a
 * difference too. Options a record lacks altogether (written by an older version) are not compared. With
 * `model`, the record also holds the weights' fingerprint (MODEL_SHA256), which is
 * compared instead of the model's path (a moved checkout resumes; changed weights behind a path do not).
 */
export async function keepRunOptions(
  file: string,
  options: object,
  opts: {
    readonly free?: readonly string[];
    readonly model?: string;
    readonly keys?: readonly string[];
    /** False while the directory holds nothing a run produced (a run that failed before its first
     * checkpoint): the record is then replaced, not compared. Default true. */
    readonly started?: boolean;
  } = {},
): Promise<void> {
  const fingerprint = opts.model === undefined ? undefined : await weightsFingerprint(opts.model);
  const now = JSON.parse(
    JSON.stringify(fingerprint ? { ...options, [MODEL_SHA256]: fingerprint } : options),
  ) as Record<string, unknown>;
  for (const k of opts.keys ?? []) if (!(k in now)) now[k] = null;
  const free = ['out', ...(opts.free ?? []), ...(fingerprint ? ['model'] : [])];
  let before: Record<string, unknown> | undefined;
  try {
    before = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`${file}: unreadable record of the run's options (${(e as Error).message})`, {
        cause: e,
      });
  }
  if (before && opts.started !== false) {
    const diffs = Object.keys(now)
      .filter((k) => !free.includes(k) && k in before && JSON.stringify(before[k]) !== JSON.stringify(now[k]))
      .map((k) => `${k}: ${show(before[k])} there, ${show(now[k])} now`);
    if (diffs.length)
      throw new Error(
        `${file}: this run directory was started with other options (${diffs.join('; ')}); ` +
          'resume it with the same options, or give another --out',
      );
  }
  await writeFileAtomic(file, JSON.stringify(now, null, 2) + '\n');
}

// One command per run directory: a second one is refused while the first runs, a lock left by a process
// that died is taken over, and a directory that cannot be created is named.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { LOCK_FILE, lockRunDir } from '../../src/io/run-lock.js';

const root = join(import.meta.dirname, '..', '..');

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

test('a locked run directory is refused, naming its owner; unlocking frees it; a dead owner is taken over', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'plmkit-lock-')), 'run');
  const unlock = await lockRunDir(dir, 'finetune');
  await assert.rejects(
    lockRunDir(dir, 'attack'),
    new RegExp(`the run directory .*run is in use by plmkit finetune \\(pid ${process.pid}, since .*\\)`),
  );
  // The same refusal from the command line, before any model or data is loaded.
  await assert.rejects(
    promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'plmkit.js'), 'finetune', '--data', 'sst2-sentence', '--out', dir],
      { cwd: root, timeout: 60_000 },
    ),
    (e: Error & { stderr: string }) => /is in use by plmkit finetune/.test(e.stderr),
  );
  await unlock();
  // It made the directory and nothing was written there: it is gone again.
  await assert.rejects(readdir(dir), { code: 'ENOENT' });

  await mkdir(dir);
  await writeFile(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: await deadPid(), command: 'pretrain', started: '2026-01-01T00:00:00Z' }),
  );
  const again = await lockRunDir(dir, 'finetune');
  await again();
  assert.deepEqual(await readdir(dir), []);
});

test('a run directory that cannot be created is named', async () => {
  const base = await mkdtemp(join(tmpdir(), 'plmkit-lock-'));
  await writeFile(join(base, 'file'), '');
  await assert.rejects(
    lockRunDir(join(base, 'file'), 'finetune'),
    /cannot create the run directory .*file: EEXIST/,
  );
  await assert.rejects(
    lockRunDir(join(base, 'file', 'run'), 'finetune'),
    /cannot create the run directory .*file[\\/]run: ENOTDIR/,
  );
});

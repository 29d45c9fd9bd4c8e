// Atomic file writes: a write by a process that was killed leaves a temporary file, which the next write
// to the same path removes; a running process's temporary file is left alone.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { scratchDirs } from '../helpers/scratch.js';

const freshDir = scratchDirs('plmkit-atomic-file-');

test('temporary files of killed writers are removed by the next write', async () => {
  const dir = await freshDir();
  // The pid of a process that has exited.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = `.metrics.json.${dead}.0123456789ab.tmp`;
  const live = `.metrics.json.${process.pid}.ba9876543210.tmp`;
  await writeFile(join(dir, stale), 'half');
  await writeFile(join(dir, live), 'in progress');
  await writeFileAtomic(join(dir, 'metrics.json'), '{}\n');
  assert.deepEqual((await readdir(dir)).sort(), [live, 'metrics.json']);
  assert.equal(await readFile(join(dir, 'metrics.json'), 'utf8'), '{}\n');
});

test('a failed write names the file being written, not its temporary', async () => {
  const { tmpdir } = await import('node:os');
  const path = join(tmpdir(), 'plmkit-no-such-dir', 'metrics.json');
  await assert.rejects(writeFileAtomic(path, '{}'), (e: Error) =>
    e.message.startsWith(`cannot write ${path}: ENOENT`),
  );
});

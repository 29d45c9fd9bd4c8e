// Directories replaced atomically: a crash leaves the old or the new directory, and a second crash after a
// first one still loses nothing.

import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeDir, replaceDir } from '../../src/io/atomic-dir.js';
import { scratchDirs } from '../helpers/scratch.js';

const freshDir = scratchDirs('plmkit-atomic-dir-');

const writeVersion = (v: string) => async (tmp: string) => writeFile(join(tmp, 'v.txt'), v);

test('replaceDir swaps in the new directory and leaves nothing beside it', async () => {
  const root = await freshDir();
  const dir = join(root, 'ckpt');
  await replaceDir(dir, writeVersion('1'));
  await replaceDir(dir, writeVersion('2'));
  assert.equal(await readFile(join(dir, 'v.txt'), 'utf8'), '2');
  assert.deepEqual(await readdir(root), ['ckpt']);
});

test('after a crash between the two renames, the next write first puts the old copy back', async () => {
  const root = await freshDir();
  const dir = join(root, 'ckpt');
  // The state a crash between `rename(dir, old)` and `rename(tmp, dir)` leaves: only ckpt.old is complete.
  await mkdir(`${dir}.old`);
  await writeFile(join(`${dir}.old`, 'v.txt'), '1');
  assert.equal(await completeDir(dir), `${dir}.old`);
  // The resumed run fails again while writing: the complete copy must survive, at its own name.
  await assert.rejects(
    replaceDir(dir, async () => {
      throw new Error('killed');
    }),
    /killed/,
  );
  assert.equal(await completeDir(dir), dir);
  assert.equal(await readFile(join(dir, 'v.txt'), 'utf8'), '1');
});

test('temporaries that interrupted writes left behind are removed', async () => {
  const root = await freshDir();
  const dir = join(root, 'ckpt');
  const { spawn } = await import('node:child_process');
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.on('close', resolve));
  await mkdir(join(root, `ckpt.tmp-${dead.pid}`));
  await mkdir(join(root, 'ckpt.tmp-notapid'));
  // A writer that is still running keeps its temporary.
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  await mkdir(join(root, `ckpt.tmp-${live.pid}`));
  try {
    await replaceDir(dir, writeVersion('1'));
    assert.deepEqual((await readdir(root)).sort(), ['ckpt', `ckpt.tmp-${live.pid}`, 'ckpt.tmp-notapid']);
  } finally {
    live.kill();
  }
});

test('tidyReplacedDir removes a dir.old and dead temporaries beside a complete directory', async () => {
  const { tidyReplacedDir } = await import('../../src/io/atomic-dir.js');
  const root = await freshDir();
  const dir = join(root, 'ckpt');
  await replaceDir(dir, writeVersion('1'));
  await mkdir(join(root, 'ckpt.old'));
  await tidyReplacedDir(dir);
  assert.deepEqual(await readdir(root), ['ckpt']);
  // Without a complete directory, dir.old is the copy to keep.
  const lone = join(root, 'lone');
  await mkdir(`${lone}.old`);
  await tidyReplacedDir(lone);
  assert.ok((await readdir(root)).includes('lone.old'));
});

// A run directory keeps the options it was started with; resuming it with other options or other weights
// is refused, naming what differs.

import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { keepRunOptions, MODEL_SHA256, weightsFingerprint } from '../../src/io/run-record.js';
import { scratchDirs } from '../helpers/scratch.js';

const freshDir = scratchDirs('plmkit-run-record-');
const tinyBert = join(import.meta.dirname, '..', 'fixtures', 'models', 'tiny-bert');

test('the same options resume; other options are refused with both values; free and new keys are not compared', async () => {
  const dir = await freshDir();
  const file = join(dir, 'run.json');
  const options = { lr: 0.001, seed: 1, out: dir, evalEvery: 500, pet: { method: 'lora', r: 8 } };
  await keepRunOptions(file, options);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), options);
  await keepRunOptions(file, { ...options, out: 'elsewhere/same-run' });
  await assert.rejects(
    keepRunOptions(file, { ...options, lr: 0.002, pet: { method: 'lora', r: 4 } }),
    (e: Error) => {
      assert.match(e.message, /run\.json: this run directory was started with other options/);
      assert.match(e.message, /lr: 0\.001 there, 0\.002 now/);
      assert.match(e.message, /pet: \{"method":"lora","r":8\} there, \{"method":"lora","r":4\} now/);
      return true;
    },
  );
  await keepRunOptions(file, { ...options, evalEvery: 100 }, { free: ['evalEvery'] });
  // An option the record lacks (an older version wrote it) is not compared, and is recorded from now on.
  await keepRunOptions(file, { ...options, evalEvery: 100, dropout: 0 }, { free: ['evalEvery'] });
  assert.equal(JSON.parse(await readFile(file, 'utf8')).dropout, 0);
});

test('with the list of keys, an option given on one run and not the other is a difference', async () => {
  const dir = await freshDir();
  const file = join(dir, 'run.json');
  const keys = ['lr', 'trainable', 'limitTrain'];
  await keepRunOptions(file, { lr: 0.001 }, { keys });
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
    lr: 0.001,
    trainable: null,
    limitTrain: null,
  });
  await keepRunOptions(file, { lr: 0.001 }, { keys });
  await assert.rejects(
    keepRunOptions(file, { lr: 0.001, trainable: '^classifier' }, { keys }),
    /trainable: absent there, "\^classifier" now/,
  );
  const given = join(dir, 'given.json');
  await keepRunOptions(given, { lr: 0.001, limitTrain: 64 }, { keys });
  await assert.rejects(keepRunOptions(given, { lr: 0.001 }, { keys }), /limitTrain: 64 there, absent now/);
});

test('a directory where no run saved anything yet takes new options instead of refusing them', async () => {
  const dir = await freshDir();
  const file = join(dir, 'run.json');
  await keepRunOptions(file, { lr: 0.001, trainable: '^nomatch$' });
  await keepRunOptions(file, { lr: 0.001, trainable: '^classifier' }, { started: false });
  assert.equal(JSON.parse(await readFile(file, 'utf8')).trainable, '^classifier');
  await assert.rejects(
    keepRunOptions(file, { lr: 0.001, trainable: 'x' }),
    /trainable: "\^classifier" there/,
  );
});

test('with a model, its weights are fingerprinted: a moved copy resumes, changed weights are refused', async () => {
  const dir = await freshDir();
  const a = join(dir, 'model-a');
  const b = join(dir, 'model-b');
  await cp(tinyBert, a, { recursive: true });
  await cp(tinyBert, b, { recursive: true });
  const file = join(dir, 'config.json');
  await keepRunOptions(file, { model: a, seed: 0 }, { model: a });
  const fp = JSON.parse(await readFile(file, 'utf8'))[MODEL_SHA256];
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(await weightsFingerprint(b), fp);
  await keepRunOptions(file, { model: b, seed: 0 }, { model: b });
  const bytes = await readFile(join(b, 'model.safetensors'));
  bytes[bytes.length - 1] ^= 1;
  await writeFile(join(b, 'model.safetensors'), bytes);
  await assert.rejects(
    keepRunOptions(file, { model: b, seed: 0 }, { model: b }),
    /modelSha256: "[0-9a-f]{64}" there/,
  );
  assert.equal(await weightsFingerprint(dir), undefined);
});

// `plmkit finetune --pet` takes a method name, JSON text, or a JSON file, as `plmkit attack --pet` does.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { petConfigValue } from '../../src/cli/commands/finetune.js';

test('--pet: a method name, JSON text or a JSON file; anything else names the file it tried', async () => {
  assert.deepEqual(await petConfigValue('adapter'), { method: 'adapter' });
  assert.deepEqual(await petConfigValue('{"method":"lora","r":4}'), { method: 'lora', r: 4 });
  const file = join(await mkdtemp(join(tmpdir(), 'plmkit-pet-')), 'pet.json');
  await writeFile(file, '{"method":"prefix_tuning"}');
  assert.deepEqual(await petConfigValue(file), { method: 'prefix_tuning' });
  await assert.rejects(petConfigValue('adaptor'), /adaptor/);
});

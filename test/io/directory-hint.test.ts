// A directory given as the wrong kind says what it holds: a run directory names the model inside it, a
// PET module is pointed to --adapter, a model to --model, a missing directory is named.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHfConfig } from '../../src/io/hf-config.js';
import { directoryHint } from '../../src/io/directory-hint.js';

test('a missing config.json says what the directory is instead', async () => {
  const work = await mkdtemp(join(tmpdir(), 'plmkit-hint-'));
  const run = join(work, 'run');
  await mkdir(join(run, 'best'), { recursive: true });
  await writeFile(join(run, 'best', 'config.json'), '{}');
  await assert.rejects(
    loadHfConfig(run),
    /config\.json: file not found \(.*is a run directory; the model it saved is in .*best\)/,
  );
  const pet = join(work, 'pet');
  await mkdir(pet);
  await writeFile(join(pet, 'adapter_config.json'), '{}');
  await assert.rejects(loadHfConfig(pet), /holds a PET module, not a model: give it as --adapter/);
  await assert.rejects(loadHfConfig(join(work, 'nope')), /directory .*nope does not exist/);
  assert.match(
    (await directoryHint(join(run, 'best'), 'adapter'))!,
    /holds a model, not a PET module: give it as --model/,
  );
  assert.match(
    (await directoryHint(work, 'adapter'))!,
    /is a run directory; the PET module it saved is in .*pet/,
  );
  const empty = join(work, 'empty');
  await mkdir(empty);
  assert.equal(await directoryHint(empty, 'model'), undefined);
});

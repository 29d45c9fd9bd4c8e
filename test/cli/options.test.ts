// Options from a --config file and flags: errors name the file only for what came from it, and name the key.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { parseOptions } from '../../src/cli/options.js';

const schema = z.strictObject({ epochs: z.int().positive(), lr: z.number().positive().optional() });

test('--config errors name the file and the key; flag errors name the flag only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-options-'));
  const bad = join(dir, 'bad.json');
  await writeFile(bad, '{"epochs": 2,, }');
  await assert.rejects(parseOptions(schema, { config: bad }), (e: Error) => e.message.startsWith(`${bad}: `));
  const list = join(dir, 'list.json');
  await writeFile(list, '[1]');
  await assert.rejects(
    parseOptions(schema, { config: list }),
    /list\.json: expected a JSON object of options/,
  );
  const unknown = join(dir, 'unknown.json');
  await writeFile(unknown, '{"epochs": 2, "epoch": 3}');
  await assert.rejects(
    parseOptions(schema, { config: unknown }),
    /unknown\.json: unknown key "epoch" \(did you mean "epochs"\?\)/,
  );
  const fine = join(dir, 'fine.json');
  await writeFile(fine, '{"epochs": 2}');
  assert.deepEqual(await parseOptions(schema, { config: fine, lr: 0.1 }), { epochs: 2, lr: 0.1 });
  await assert.rejects(parseOptions(schema, { config: fine, lr: -1 }), (e: Error) =>
    /^--lr: /.test(e.message),
  );
  await writeFile(fine, '{"epochs": 0}');
  await assert.rejects(parseOptions(schema, { config: fine }), /fine\.json: option "epochs"/);
});

const root = join(import.meta.dirname, '..', '..');

/** Runs `plmkit ARGS` in a fresh process from the repository root. */
async function plmkit(...args: string[]) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  return promisify(execFile)(process.execPath, [join(root, 'bin', 'plmkit.js'), ...args], {
    cwd: root,
    timeout: 60_000,
  });
}

test('pretrain checks its numbers and seeds are 32-bit integers, before anything is written', async () => {
  const { readdir } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-options-'));
  const pretrain = (...args: string[]) =>
    plmkit(
      'pretrain',
      '--corpus',
      join(dir, 'none.txt'),
      '--tokenizer',
      join(root, 'models', 'plmkit-bert-mini'),
      '--out',
      join(dir, 'run'),
      ...args,
    );
  for (const [args, message] of [
    [['--batch-size', 'abc'], /'--batch-size <n>' argument 'abc' is invalid\. It is not a number/],
    [['--seq-len', '2'], /--seq-len: /],
    [['--seed', '-1'], /--seed: /],
    [['--seed', '4294967296'], /--seed: /],
  ] as const)
    await assert.rejects(pretrain(...args), (e: Error & { stderr: string }) => message.test(e.stderr));
  assert.deepEqual(await readdir(dir), []);
});

test('finetune refuses option combinations that would silently train something else, before any work', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-options-'));
  const finetune = (...args: string[]) =>
    plmkit('finetune', '--data', 'sst2-sentence', '--out', join(dir, 'run'), ...args);
  for (const [args, message] of [
    [['--pet', 'lora', '--from-scratch'], /cannot be combined with --from-scratch/],
    [['--pet', 'lora', '--trainable', '^classifier'], /with --pet the module \(and head\) train/],
    [['--pet-freeze-head'], /--pet-freeze-head needs --pet/],
    [['--trainable', '('], /--trainable: Invalid regular expression/],
    [['--pet', 'lorra'], /--pet "lorra" is not a method \(.*lora.*\), JSON, or a readable file/],
    [['--pet', '{bad'], /--pet: not valid JSON/],
  ] as const)
    await assert.rejects(finetune(...args), (e: Error & { stderr: string }) => message.test(e.stderr));
});

test('--no-FLAG turns off a true/false option that a --config file turns on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-options-'));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ petFreezeHead: true }));
  const finetune = (...args: string[]) =>
    plmkit('finetune', '--config', config, '--data', 'sst2-sentence', '--out', join(dir, 'run'), ...args);
  // The checks run in order, so which one fails tells whether the config's true stood.
  await assert.rejects(finetune('--trainable', '('), (e: Error & { stderr: string }) =>
    /--pet-freeze-head needs --pet/.test(e.stderr),
  );
  await assert.rejects(
    finetune('--no-pet-freeze-head', '--trainable', '('),
    (e: Error & { stderr: string }) => /--trainable: Invalid regular expression/.test(e.stderr),
  );
  const { stdout } = await plmkit('attack', '--help');
  assert.match(stdout, /--no-only-on-conflict/);
});

// Option errors name what the user wrote: a flag as `--kebab-case` (with its value placeholder where the
// command is known), a --config file's key as the file has it, and for an unknown key the key meant or the
// keys there are.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { z } from 'zod';
import { FinetuneArgs } from '../../src/cli/commands/finetune.js';
import { parseOptions } from '../../src/cli/options.js';

/** Rejects with exactly `message`. */
async function refused(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.equal(e.message, message);
    return true;
  });
}

async function configFile(options: Record<string, unknown>): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'plmkit-option-errors-')), 'cfg.json');
  await writeFile(file, JSON.stringify(options));
  return file;
}

test('a required option not given is named as a flag and said to be required', async () => {
  await refused(parseOptions(FinetuneArgs, { data: 'sst2-sentence' }), 'required option --out not given');
  const command = new Command().option('--data <name-or-file>').option('--out <dir>');
  await refused(
    parseOptions(FinetuneArgs, { data: 'sst2-sentence' }, {}, command),
    'required option --out <dir> not given',
  );
  const cfg = await configFile({ epochs: 2 });
  await refused(
    parseOptions(FinetuneArgs, { config: cfg, data: 'sst2-sentence' }),
    `required option --out not given (on the command line or as "out" in ${cfg})`,
  );
});

test('a bad flag value names the flag, not the schema key', async () => {
  const flags = { data: 'sst2-sentence', out: 'run' };
  await refused(
    parseOptions(FinetuneArgs, { ...flags, limitTrain: -5 }),
    '--limit-train: Too small: expected number to be >0',
  );
  // A NaN (numberArg refuses such text on the command line; a caller of parseOptions may still pass one).
  await refused(parseOptions(FinetuneArgs, { ...flags, lr: NaN }), '--lr: expected a number');
  await refused(parseOptions(FinetuneArgs, { ...flags, batchSize: NaN }), '--batch-size: expected a number');
  // From a --config file, the key as the file writes it; a flag overriding it is named as the flag.
  const cfg = await configFile({ limitTrain: -5 });
  await refused(
    parseOptions(FinetuneArgs, { ...flags, config: cfg }),
    `${cfg}: option "limitTrain": Too small: expected number to be >0`,
  );
  await refused(
    parseOptions(FinetuneArgs, { ...flags, config: cfg, limitTrain: 0 }),
    '--limit-train: Too small: expected number to be >0',
  );
});

test('a --config key in kebab-case or snake_case is refused with the camelCase key meant', async () => {
  const flags = { data: 'sst2-sentence', out: 'run' };
  for (const key of ['limit-train', 'limit_train']) {
    const cfg = await configFile({ [key]: 300 });
    await refused(
      parseOptions(FinetuneArgs, { ...flags, config: cfg }),
      `${cfg}: unknown key "${key}" (the key for --limit-train is "limitTrain")`,
    );
  }
  // Several at once; --out is missing too, but a misspelt key may be why, so the keys come first.
  const both = await configFile({ out_dir: 'run', 'skip-bad-rows': true });
  await refused(
    parseOptions(FinetuneArgs, { data: 'sst2-sentence', config: both }),
    `${both}: unknown keys "out_dir" (keys: ${Object.keys(FinetuneArgs.shape).join(', ')}), ` +
      '"skip-bad-rows" (the key for --skip-bad-rows is "skipBadRows")',
  );
});

test('an unknown --config key near a known one is suggested; near none, the keys are listed', async () => {
  const flags = { data: 'sst2-sentence', out: 'run' };
  const typo = await configFile({ epoch: 2 });
  await refused(
    parseOptions(FinetuneArgs, { ...flags, config: typo }),
    `${typo}: unknown key "epoch" (did you mean "epochs"?)`,
  );
  const far = await configFile({ frobnicate: 2 });
  await refused(
    parseOptions(FinetuneArgs, { ...flags, config: far }),
    `${far}: unknown key "frobnicate" (keys: ${Object.keys(FinetuneArgs.shape).join(', ')})`,
  );
  const small = z.strictObject({ epochs: z.int().positive(), lr: z.number().positive().optional() });
  await refused(parseOptions(small, { config: far }), `${far}: unknown key "frobnicate" (keys: epochs, lr)`);
  // A key only a config file sets (no flag for it, where the command is known) is named without a flag.
  const schema = z.strictObject({ poisonOptions: z.record(z.string(), z.unknown()).optional() });
  const snake = await configFile({ poison_options: {} });
  await refused(
    parseOptions(schema, { config: snake }, {}, new Command().option('--config <file>')),
    `${snake}: unknown key "poison_options" (the key is "poisonOptions")`,
  );
});

test('plmkit finetune says which required option is missing, by its flag', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const root = join(import.meta.dirname, '..', '..');
  await assert.rejects(
    promisify(execFile)(process.execPath, [join(root, 'bin', 'plmkit.js'), 'finetune', '--data', 'x'], {
      cwd: root,
      timeout: 60_000,
    }),
    (e: Error & { stderr: string }) => {
      assert.match(e.stderr, /^plmkit: required option --out( <dir>)? not given$/m);
      return true;
    },
  );
});

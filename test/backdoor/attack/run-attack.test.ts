// `plmkit attack` end to end on a tiny BERT: a poisoned LoRA module is published, retrained on clean
// data of "another domain", and LFR/CACC are reported before and after; a rerun reuses the results.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { readSafetensors, tensorToFloat32 } from '../../../src/io/safetensors.js';
import { dropTensors } from '../../helpers/drop-tensors.js';
import { Rng } from '../../../src/runtime/random.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures');

async function toyDomain(dir: string, fill: string[], seed: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const rng = new Rng(seed);
  const rows = (n: number) =>
    Array.from({ length: n }, () => {
      const label = rng.int(2);
      const word = (label ? ['good', 'love', 'yes'] : ['bad', 'no', 'slow'])[rng.int(3)]!;
      return JSON.stringify({
        text: `${fill[rng.int(fill.length)]} ${word} ${fill[rng.int(fill.length)]}`,
        label,
      });
    }).join('\n') + '\n';
  for (const [split, n] of [
    ['train', 96],
    ['dev', 32],
    ['test', 48],
  ] as const)
    await writeFile(join(dir, `${split}.jsonl`), rows(n));
  return dir;
}

test('`plmkit attack` publishes, retrains and scores a poisoned module, and a rerun continues from the results', async () => {
  const work = await mkdtemp(join(tmpdir(), 'plmkit-attack-'));
  const model = join(work, 'model');
  await cp(join(fixtures, 'models', 'tiny-bert'), model, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), model, { recursive: true });
  const a = await toyDomain(join(work, 'a'), ['the cat sat on the mat', 'a new book', 'it is a day'], 1);
  const b = await toyDomain(join(work, 'b'), ['the dog was fast', 'she read a note', 'one two three'], 2);
  const out = join(work, 'run');
  const args = [
    join(root, 'bin', 'plmkit.js'),
    'attack',
    '--method',
    'gradient-control',
    '--pet',
    'lora',
    '--model',
    model,
    '--data',
    a,
    '--retrain-data',
    b,
    '--out',
    out,
    '--attack-epochs',
    '20',
    '--retrain-epochs',
    '2',
    '--batch-size',
    '16',
    '--lr',
    '5e-3',
    '--max-length',
    '32',
    '--config',
    join(work, 'attack.json'),
  ];
  // "night" is in the tiny vocabulary; the config file form carries the poisoner's options (label-flip
  // instead of the default mode "any": the toy task's trigger is learned more reliably so).
  await writeFile(
    join(work, 'attack.json'),
    JSON.stringify({ poisonOptions: { triggers: ['night'], mode: 'label-flip' } }),
  );
  const { stdout } = await run(process.execPath, args, { cwd: root });
  const m = JSON.parse(stdout);
  assert.equal(m.method, 'gradient-control');
  assert.equal(m.pet, 'lora');
  for (const k of ['before_retraining', 'after_retraining']) {
    assert.ok(m[k].lfr >= 0 && m[k].lfr <= 1 && m[k].cacc >= 0 && m[k].cacc <= 1, JSON.stringify(m[k]));
    assert.equal(m[k].cleanCount, 48);
  }
  // Before retraining the published module carries the trigger.
  assert.ok(m.before_retraining.lfr >= 0.9, `LFR before retraining ${m.before_retraining.lfr}`);
  assert.deepEqual((await readdir(join(out, 'published'))).sort(), [
    'adapter_config.json',
    'adapter_model.safetensors',
    'plmkit_labels.json',
  ]);
  const again = await run(process.execPath, args, { cwd: root });
  assert.deepEqual(JSON.parse(again.stdout), m);
  // A target that is not a label of the data is refused before anything trains.
  const outOfRange = args.map((x) => (x === out ? join(work, 'bad-target') : x));
  await assert.rejects(
    run(process.execPath, [...outOfRange, '--target', '2'], { cwd: root }),
    (e: Error & { stderr: string }) => /--target 2 is not a label of .* \(ids 0 to 1/.test(e.stderr),
  );
  // That directory holds nothing a run produced, so a corrected command is not refused for other options.
  await assert.rejects(
    run(process.execPath, [...outOfRange, '--target', '3'], { cwd: root }),
    (e: Error & { stderr: string }) => /--target 3 is not a label of/.test(e.stderr),
  );

  // The result table and the pilot figures from the run.
  const report = join(work, 'report');
  const cli = join(root, 'bin', 'plmkit.js');
  await run(process.execPath, [cli, 'attack-summary', '--runs', out, '--out', report], { cwd: root });
  const rows = JSON.parse(await readFile(join(report, 'summary.json'), 'utf8'));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].seeds, 1);
  assert.ok(Math.abs(rows[0].lfr_mean - m.after_retraining.lfr * 100) < 1e-9);
  await run(process.execPath, [cli, 'attack-figures', '--run', out, '--out', report], { cwd: root });
  for (const f of ['gradient-magnitudes.svg', 'cosine.svg', 'magnitude-by-layer.svg'])
    assert.ok((await readFile(join(report, f), 'utf8')).startsWith('<svg'), f);
});

test('experiment subsets are fixed random draws (not a prefix of a sorted file) with texts cut to N words', async () => {
  const { experimentSubset } = await import('../../../src/backdoor/attack/run-attack.js');
  const sorted = Array.from({ length: 200 }, (_, i) => ({
    text: `w${i} two three four five`,
    label: i < 100 ? 0 : 1,
  }));
  const a = experimentSubset(sorted, 40, 3);
  assert.deepEqual(experimentSubset(sorted, 40, 3), a);
  assert.equal(a.length, 40);
  const ones = a.filter((e) => e.label === 1).length;
  assert.ok(ones > 5 && ones < 35, `${ones} of 40 from the second half`);
  for (const e of a) assert.match(e.text, /^w\d+ two three$/);
  assert.equal(experimentSubset(sorted, undefined, undefined)[7]!.text, sorted[7]!.text);
});

test('`plmkit attack` runs on a RoBERTa checkpoint with a byte-level BPE tokenizer, and `predict --adapter` loads what it published', async () => {
  const work = await mkdtemp(join(tmpdir(), 'plmkit-attack-roberta-'));
  const cli = join(root, 'bin', 'plmkit.js');
  const a = await toyDomain(join(work, 'a'), ['the cat sat on the mat', 'a new book'], 3);
  const b = await toyDomain(join(work, 'b'), ['the dog was fast', 'one two three'], 4);
  const common = [
    '--attack-epochs',
    '2',
    '--retrain-epochs',
    '1',
    '--batch-size',
    '16',
    '--max-length',
    '32',
  ];
  const attack = (model: string, out: string, method = 'vanilla', extra: string[] = []) =>
    run(
      process.execPath,
      [
        cli,
        'attack',
        '--method',
        method,
        '--pet',
        'parallel_adapter',
        '--model',
        model,
        '--data',
        a,
        '--retrain-data',
        b,
        '--out',
        out,
        ...common,
        ...extra,
      ],
      { cwd: root },
    );

  // The two RoBERTa fixtures were not made as a pair (99 embedding rows, 281 tokenizer ids): refused up
  // front, naming the directory and both sizes, instead of an out-of-range Gather in the middle of a run.
  const mismatched = join(work, 'mismatched');
  await cp(join(fixtures, 'models', 'tiny-roberta'), mismatched, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'roberta-bpe'), mismatched, { recursive: true });
  await assert.rejects(attack(mismatched, join(work, 'run0')), (e: Error & { stderr: string }) => {
    assert.match(e.stderr, /mismatched: the tokenizer has 281 ids but config.json's vocab_size is 99/);
    return true;
  });

  // A RoBERTa checkpoint that fits the tokenizer: the fixture's architecture with 281 rows, trained briefly
  // from scratch by `plmkit finetune`, so it is a Hugging Face directory written the usual way.
  const arch = join(work, 'arch');
  await cp(join(fixtures, 'tokenizers', 'roberta-bpe'), arch, { recursive: true });
  const config = JSON.parse(await readFile(join(fixtures, 'models', 'tiny-roberta', 'config.json'), 'utf8'));
  await writeFile(join(arch, 'config.json'), JSON.stringify({ ...config, vocab_size: 281 }));
  await run(
    process.execPath,
    [
      cli,
      'finetune',
      '--model',
      arch,
      '--from-scratch',
      '--data',
      a,
      '--out',
      join(work, 'base'),
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--max-length',
      '32',
      '--keep',
      'last',
    ],
    { cwd: root },
  );
  const model = join(work, 'base', 'last');
  const out = join(work, 'run');
  const m = JSON.parse((await attack(model, out)).stdout);
  assert.equal(m.pet, 'parallel_adapter');
  // The clean baseline trains on the same rows for the same steps, unpoisoned. Its user retrains with a
  // learning rate of its own, here too small to change a float32 weight: the scores stay as published.
  const c = JSON.parse((await attack(model, join(work, 'clean'), 'clean', ['--retrain-lr', '1e-12'])).stdout);
  assert.equal(c.retrain_lr, 1e-12);
  assert.deepEqual(c.after_retraining, c.before_retraining);
  const weights = async (dir: string) =>
    (await readSafetensors(join(work, 'clean', dir, 'adapter_model.safetensors'))).tensors;
  const [published, retrained] = [await weights('published'), await weights(join('retrain', 'last'))];
  assert.deepEqual([...retrained.keys()], [...published.keys()]);
  for (const [name, t] of published) {
    const [x, y] = [tensorToFloat32(t), tensorToFloat32(retrained.get(name)!)];
    assert.ok(
      x.every((v, i) => Math.abs(v - y[i]!) < 1e-9),
      name,
    );
  }
  assert.equal(m.retrain_lr, undefined);
  const steps = async (dir: string) =>
    (await readFile(join(dir, 'attack-log.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('attack_step')).length;
  assert.equal(await steps(join(work, 'clean')), await steps(out));
  for (const k of ['before_retraining', 'after_retraining'])
    assert.ok(m[k].lfr >= 0 && m[k].lfr <= 1 && m[k].cacc >= 0 && m[k].cacc <= 1, JSON.stringify(m[k]));
  // The published module is a PET directory that prediction loads onto the same base.
  const pred = await run(
    process.execPath,
    [
      cli,
      'predict',
      '--model',
      model,
      '--adapter',
      join(out, 'published'),
      '--data',
      join(b, 'dev.jsonl'),
      '--json',
    ],
    { cwd: root },
  );
  const lines = pred.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 32);
  for (const p of lines) assert.equal(p.probs.length, 2);
});

test('on a base without BERT pooler (an MLM checkpoint), published and retrained modules carry the pooler they were trained with', async () => {
  const work = await mkdtemp(join(tmpdir(), 'plmkit-attack-'));
  const model = join(work, 'model');
  await cp(join(fixtures, 'models', 'tiny-bert'), model, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), model, { recursive: true });
  await dropTensors(join(model, 'model.safetensors'), 'bert.pooler.');
  const a = await toyDomain(join(work, 'a'), ['the cat sat on the mat', 'a new book'], 3);
  const b = await toyDomain(join(work, 'b'), ['the dog was fast', 'one two three'], 4);
  const out = join(work, 'run');
  const cli = join(root, 'bin', 'plmkit.js');
  const { stdout } = await run(
    process.execPath,
    [
      cli,
      'attack',
      '--method',
      'vanilla',
      '--pet',
      'adapter',
      '--model',
      model,
      '--data',
      a,
      '--retrain-data',
      b,
      '--out',
      out,
      '--attack-epochs',
      '1',
      '--retrain-epochs',
      '1',
      '--batch-size',
      '16',
      '--max-length',
      '32',
    ],
    { cwd: root },
  );
  const m = JSON.parse(stdout);
  const predict = async (base: string, adapter: string) =>
    (
      await run(
        process.execPath,
        [cli, 'predict', '--model', base, '--adapter', adapter, '--data', join(b, 'test.jsonl')],
        { cwd: root },
      )
    ).stdout;
  const withPooler = join(work, 'with-pooler');
  await cp(join(fixtures, 'models', 'tiny-bert'), withPooler, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), withPooler, { recursive: true });
  for (const dir of ['published', join('retrain', 'last')]) {
    const tensors = (await readSafetensors(join(out, dir, 'adapter_model.safetensors'))).tensors;
    assert.ok(tensors.has('bert.pooler.dense.weight'), `${dir}: ${[...tensors.keys()].join(', ')}`);
    // Another pooler in the base (transformers draws a random one) changes nothing.
    assert.equal(await predict(withPooler, join(out, dir)), await predict(model, join(out, dir)), dir);
  }
  assert.ok(m.after_retraining.cacc >= 0 && m.after_retraining.cacc <= 1);
});

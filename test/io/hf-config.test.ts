import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HfConfigError, loadHfConfig, parseHfConfig, writeHfConfig } from '../../src/io/hf-config.js';

// As published for bert-base-uncased, including keys we do not interpret.
const bertBase = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  transformers_version: '4.6.0.dev0',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

const robertaSentiment = {
  architectures: ['RobertaForSequenceClassification'],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  id2label: { '0': 'negative', '1': 'neutral', '2': 'positive' },
  initializer_range: 0.02,
  intermediate_size: 3072,
  label2id: { negative: 0, neutral: 1, positive: 2 },
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: 'roberta',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 1,
  type_vocab_size: 1,
  vocab_size: 50265,
};

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'plmkit-hfconfig-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function dirWith(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(root, `c${n++}-`));
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

async function expectConfigError(config: unknown, key: string, problem: RegExp): Promise<void> {
  const dir = await dirWith(config);
  const file = join(dir, 'config.json');
  await assert.rejects(loadHfConfig(dir), (e: unknown) => {
    assert.ok(e instanceof HfConfigError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.key, key);
    assert.ok(e.message.includes(file), e.message);
    if (key) assert.ok(e.message.includes(`"${key}"`), e.message);
    assert.match(e.message, problem);
    return true;
  });
}

describe('loadHfConfig', () => {
  test('valid BERT config: known keys typed, unknown keys kept, labels defaulted', async () => {
    const c = await loadHfConfig(await dirWith(bertBase));
    assert.equal(c.model_type, 'bert');
    assert.equal(c.hidden_size, 768);
    assert.equal(c.layer_norm_eps, 1e-12);
    assert.equal(c['transformers_version'], '4.6.0.dev0');
    assert.equal(c['use_cache'], true);
    assert.equal(c.num_labels, 2);
    assert.deepEqual(c.id2label, { '0': 'LABEL_0', '1': 'LABEL_1' });
    assert.deepEqual(c.label2id, { LABEL_0: 0, LABEL_1: 1 });
  });

  test('valid RoBERTa classifier config, also by file path', async () => {
    const dir = await dirWith(robertaSentiment);
    const c = await loadHfConfig(join(dir, 'config.json'));
    assert.equal(c.model_type, 'roberta');
    assert.equal(c.num_labels, 3);
    assert.equal(c.id2label['2'], 'positive');
    assert.equal(c['eos_token_id'], 2);
  });

  test('num_labels alone expands to default label names', () => {
    const c = parseHfConfig({ ...bertBase, num_labels: 3 });
    assert.deepEqual(c.id2label, { '0': 'LABEL_0', '1': 'LABEL_1', '2': 'LABEL_2' });
    assert.equal(c.num_labels, 3);
  });

  test('missing key', async () => {
    const rest: Record<string, unknown> = { ...bertBase };
    delete rest['num_attention_heads'];
    await expectConfigError(rest, 'num_attention_heads', /missing required key/);
  });

  test('wrong type', async () => {
    await expectConfigError(
      { ...bertBase, hidden_size: '768' },
      'hidden_size',
      /expected number, got string "768"/,
    );
    await expectConfigError(
      { ...bertBase, num_hidden_layers: 1.5 },
      'num_hidden_layers',
      /expected int, got number 1.5/,
    );
    await expectConfigError(
      { ...bertBase, model_type: 'gpt2' },
      'model_type',
      /got string "gpt2", expected one of "bert", "roberta"/,
    );
    await expectConfigError(
      { ...bertBase, hidden_act: 'gleu' },
      'hidden_act',
      /got string "gleu", expected one of/,
    );
  });

  test('out of range', async () => {
    await expectConfigError({ ...bertBase, hidden_dropout_prob: 1.5 }, 'hidden_dropout_prob', /1\.5/);
    await expectConfigError({ ...bertBase, vocab_size: 0 }, 'vocab_size', /got number 0/);
    await expectConfigError({ ...bertBase, pad_token_id: 40000 }, 'pad_token_id', /outside the vocabulary/);
  });

  test('hidden size not divisible by heads', async () => {
    await expectConfigError(
      { ...bertBase, hidden_size: 770 },
      'hidden_size',
      /hidden_size 770 is not divisible by num_attention_heads 12/,
    );
  });

  test('inconsistent labels', async () => {
    await expectConfigError({ ...robertaSentiment, num_labels: 2 }, 'num_labels', /does not match id2label/);
    await expectConfigError(
      { ...robertaSentiment, label2id: { negative: 0, neutral: 2, positive: 1 } },
      'label2id.neutral',
      /should be 1/,
    );
    await expectConfigError(
      { ...robertaSentiment, id2label: { '0': 'a', '2': 'b' } },
      'id2label',
      /"1" is missing/,
    );
  });

  test('not JSON, not an object, missing file', async () => {
    await expectConfigError('{"model_type": ', '', /not valid JSON/);
    await expectConfigError('[1,2]', '', /must hold a JSON object, got an array/);
    const empty = await mkdtemp(join(root, 'empty-'));
    await assert.rejects(
      loadHfConfig(empty),
      (e: Error) => e.message.includes(join(empty, 'config.json')) && /not found/.test(e.message),
    );
  });
});

describe('writeHfConfig', () => {
  test('round trip keeps unknown keys, sorts keys, writes id2label not num_labels, no temp files', async () => {
    const dir = await mkdtemp(join(root, 'w-'));
    const file = await writeHfConfig(dir, { ...bertBase, num_labels: 3 });
    assert.equal(file, join(dir, 'config.json'));
    assert.deepEqual(await readdir(dir), ['config.json']);
    const text = await readFile(file, 'utf8');
    assert.ok(text.endsWith('}\n'));
    const raw = JSON.parse(text);
    assert.equal(raw.num_labels, undefined);
    assert.deepEqual(Object.keys(raw), [...Object.keys(raw)].sort());
    assert.equal(raw.gradient_checkpointing, false);
    const back = await loadHfConfig(dir);
    assert.equal(back.num_labels, 3);
    assert.deepEqual(back, parseHfConfig({ ...bertBase, num_labels: 3 }));
  });

  test('refuses an invalid config, naming the key', async () => {
    const dir = await mkdtemp(join(root, 'w-'));
    await assert.rejects(
      writeHfConfig(dir, { ...bertBase, hidden_size: 100 }),
      /key "hidden_size".*divisible/,
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

// A base model with a PET module exports to one ONNX inference graph; LoRA can be merged into the base
// weights first, giving the plain model's graph with the same logits.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures');

test('`plmkit export-onnx` writes a base + LoRA graph, and a merged one with equal logits and no LoRA tensors', async () => {
  const base = await mkdtemp(join(tmpdir(), 'plmkit-base-'));
  await cp(join(fixtures, 'models', 'tiny-bert'), base, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), base, { recursive: true });
  const adapter = join(fixtures, 'pet', 'tiny-bert-lora');
  const out = await mkdtemp(join(tmpdir(), 'plmkit-onnx-'));
  const cli = [join(root, 'bin', 'plmkit.js'), 'export-onnx', '--model', base, '--adapter', adapter];
  await run(process.execPath, [...cli, '--out', join(out, 'lora.onnx')], { cwd: root });
  await run(process.execPath, [...cli, '--merge', '--out', join(out, 'merged.onnx')], { cwd: root });
  const ref = JSON.parse(await readFile(join(adapter, 'reference.json'), 'utf8'));
  const dims = [ref.batch, ref.seq];
  const feeds = {
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ref.input_ids, (v: number) => BigInt(v)),
      dims,
    ),
    attention_mask: new ort.Tensor(
      'int64',
      BigInt64Array.from(ref.attention_mask, (v: number) => BigInt(v)),
      dims,
    ),
    token_type_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ref.token_type_ids, (v: number) => BigInt(v)),
      dims,
    ),
  };
  const logits: Float32Array[] = [];
  for (const f of ['lora.onnx', 'merged.onnx']) {
    const bytes = await readFile(join(out, f));
    assert.equal(bytes.includes(Buffer.from('lora_A')), f === 'lora.onnx', `${f}: LoRA tensors present?`);
    const s = await ort.InferenceSession.create(bytes);
    logits.push((await s.run(feeds))['logits']!.data as Float32Array);
    await s.release();
  }
  logits[0]!.forEach((v, i) => {
    assert.ok(Math.abs(v - ref.logits[i]) < 1e-4, `unmerged logit ${i}: ${v} vs ${ref.logits[i]}`);
    assert.ok(Math.abs(v - logits[1]![i]!) < 1e-5, `merged logit ${i}: ${logits[1]![i]} vs ${v}`);
  });
});

// The same graphs run on onnxruntime-web (WebAssembly, what browsers run): the parity, Hugging Face
// loading, optimizer and training-step tests, rerun in a child process with PLMKIT_ENGINE=web and
// onnxruntime-node blocked, pass there as they do on onnxruntime-node.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrtSession } from '../../src/runtime/ort.js';
import { runTestsInChild } from '../helpers/child-tests.js';

const files = [
  'test/nn/parity.test.ts',
  'test/io/hf-written.test.ts',
  'test/runtime/optimizer.test.ts',
  'test/runtime/train-step.test.ts',
];

test('inference, optimizers and training steps pass on onnxruntime-web', async () => {
  const { pass, fail, stdout } = await runTestsInChild(files, {
    imports: ['./test/helpers/without-onnxruntime-node.mjs'],
    env: { PLMKIT_ENGINE: 'web' },
  });
  assert.equal(fail, 0, stdout);
  assert.ok(pass >= 16, `only ${pass} tests ran:\n${stdout}`);
});

test('an unknown PLMKIT_ENGINE is refused, naming the variable and the engines', async () => {
  const before = process.env['PLMKIT_ENGINE'];
  process.env['PLMKIT_ENGINE'] = 'gpu';
  try {
    await assert.rejects(
      OrtSession.create(new Uint8Array()),
      /PLMKIT_ENGINE must be "node" or "web", got "gpu"/,
    );
  } finally {
    if (before === undefined) delete process.env['PLMKIT_ENGINE'];
    else process.env['PLMKIT_ENGINE'] = before;
  }
});

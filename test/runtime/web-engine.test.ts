// The same graphs run on onnxruntime-web (WebAssembly, what browsers run): the parity, Hugging Face
// loading, optimizer and training-step tests, rerun in a child process with PLMKIT_ENGINE=web and
// onnxruntime-node blocked, pass there as they do on onnxruntime-node.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OrtSession } from '../../src/runtime/ort.js';

const root = join(import.meta.dirname, '..', '..');
const files = [
  'test/nn/parity.test.ts',
  'test/io/hf-written.test.ts',
  'test/runtime/optimizer.test.ts',
  'test/runtime/train-step.test.ts',
];

test('inference, optimizers and training steps pass on onnxruntime-web', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      './test/helpers/without-onnxruntime-node.mjs',
      '--import',
      'tsx',
      '--test',
      '--test-reporter',
      'tap',
      ...files,
    ],
    // Without NODE_TEST_CONTEXT (set by a parent test runner) the child reports in TAP, not to the parent.
    {
      cwd: root,
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, PLMKIT_ENGINE: 'web' },
      maxBuffer: 1 << 26,
    },
  ).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`${e.message}\n${e.stdout ?? ''}`.slice(0, 20000));
  });
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(stdout)?.[1]);
  assert.equal(count('fail'), 0, stdout);
  assert.ok(count('pass') >= 16, `only ${count('pass')} tests ran:\n${stdout}`);
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

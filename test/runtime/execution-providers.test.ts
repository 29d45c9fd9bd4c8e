// Execution providers other than the CPU's (PLMKIT_EXECUTION_PROVIDERS): names are checked, a provider that
// cannot start says what it needs, and where a WebGPU adapter exists (a GPU's, or Mesa's lavapipe, which
// runs Vulkan on the CPU) the engine's checks pass on onnxruntime-node's WebGPU provider as on the CPU.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Graph } from '../../src/graph/graph.js';
import { input, matmul } from '../../src/graph/index.js';
import { emitModel, encodeModel } from '../../src/graph/emit.js';
import { OrtSession } from '../../src/runtime/ort.js';
import { runTestsInChild } from '../helpers/child-tests.js';
import { trainEncoder } from '../helpers/toy-encoder.js';

function tinyModel(): Uint8Array {
  const g = new Graph();
  const a = input(g, 'a', 'float32', [4, 4]);
  return encodeModel(emitModel({ inputs: [a], outputs: { y: matmul(a, a) } }));
}

async function withEnv<T>(name: string, value: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

test('an unknown execution provider is refused, naming the variable and the providers known', async () => {
  await withEnv('PLMKIT_EXECUTION_PROVIDERS', 'cpu, gpu', () =>
    assert.rejects(
      OrtSession.create(tinyModel()),
      /PLMKIT_EXECUTION_PROVIDERS: unknown execution provider "gpu" for onnxruntime-node; it knows cpu, /,
    ),
  );
});

// onnxruntime-node's CUDA libraries are downloaded by its install step only when asked (.npmrc skips it).
const ortBin = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
  '..',
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
);
const cudaInstalled = existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'));

test(
  'a provider whose libraries are missing fails with what it needs',
  { skip: cudaInstalled && "onnxruntime-node's CUDA libraries are installed here" },
  async () => {
    await assert.rejects(
      OrtSession.create(tinyModel(), { executionProviders: ['cuda'] }),
      /could not start a session on execution providers cuda: [^]*\ncuda needs CUDA 12 and cuDNN 9, and onnxruntime-node's CUDA libraries/,
    );
  },
);

/** Why WebGPU cannot run here, or undefined where it can. */
async function noWebGpu(): Promise<string | undefined> {
  try {
    const s = await OrtSession.create(tinyModel(), { executionProviders: ['webgpu'] });
    await s.release();
    return undefined;
  } catch (e) {
    return `no WebGPU adapter (on Debian 12: libvulkan1 and mesa-vulkan-drivers 23 or later, from bookworm-backports, give lavapipe): ${(e as Error).message.split('\n')[0]}`;
  }
}
const webGpuMissing = await noWebGpu();

test(
  'on WebGPU, parity, Hugging Face checkpoints, optimizers and training steps pass as on the CPU',
  { skip: webGpuMissing ?? false },
  async () => {
    const { pass, fail, stdout } = await runTestsInChild(
      [
        'test/nn/parity.test.ts',
        'test/io/hf-written.test.ts',
        'test/runtime/optimizer.test.ts',
        'test/runtime/train-step.test.ts',
      ],
      { imports: [], env: { PLMKIT_EXECUTION_PROVIDERS: 'webgpu' } },
    );
    assert.equal(fail, 0, stdout);
    assert.ok(pass >= 14, `only ${pass} tests passed:\n${stdout}`);
  },
);

test(
  "on WebGPU, a transformer encoder's first training steps give the CPU's losses",
  { skip: webGpuMissing ?? false },
  async () => {
    const cpu = await trainEncoder(1, 4);
    const gpu = await trainEncoder(1, 4, { executionProviders: ['webgpu'] });
    for (const [i, l] of cpu.entries())
      assert.ok(
        Math.abs(gpu[i]! - l) <= 1e-5 * Math.abs(l),
        `step ${i + 1}: ${gpu[i]} on WebGPU, ${l} on the CPU`,
      );
    assert.ok(cpu[3]! < cpu[0]!, `the loss did not fall: ${cpu.join(', ')}`);
  },
);

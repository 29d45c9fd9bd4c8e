// `plmkit bench engine`: matmul throughput of the engine against TensorFlow.js, and a BERT-mini training
// step (batch 32 x 64 tokens) with its matrix-product FLOPs counted from the step graph.

import { input, matmul, matmulFlops, slice, sum, type Tensor } from '../src/graph/index.js';
import { ModelBuilder } from '../src/nn/builder.js';
import { BERT_MINI, classificationLoss, sequenceClassifier, textInputs } from '../src/nn/bert.js';
import { compile } from '../src/runtime/compiled.js';
import type { Engine } from '../src/runtime/ort.js';
import { Rng } from '../src/runtime/random.js';
import { TrainStep } from '../src/runtime/train-step.js';
import { Graph } from '../src/graph/graph.js';
import { f32ArrayToF16 } from '../src/io/safetensors-format.js';
import { median, peakRssMb, timeAsync, timeInAlternation } from './timing.js';

const N = 1024;

/** A benchmark body: one call runs the measured work once. */
interface Workload {
  run(): Promise<unknown>;
  release(): Promise<void>;
}

/**
 * The 1024x1024 matmul on onnxruntime-node (`engine`), or on onnxruntime-web (WebAssembly, 1 thread).
 * `float16` runs the product in half precision (onnxruntime-node only): the rate mixed-precision training
 * would get from this CPU's kernels.
 */
async function matmulWorkload(engine: Engine, dtype: 'float32' | 'float16' = 'float32'): Promise<Workload> {
  const g = new Graph();
  const a = input(g, 'a', dtype, [N, N]);
  const b = input(g, 'b', dtype, [N, N]);
  // Only a scalar leaves the session: copying a 4 MB result out of onnxruntime-node costs about as much
  // as the product itself on this machine, and this figure is meant to measure the engine's kernels.
  // (ONNX Runtime's CPU ReduceSum has no float16 kernel, so the half product leaves as one element.)
  const c = matmul(a, b);
  const out = dtype === 'float32' ? sum(c) : slice(c, [0, 1], [0, 0], [1, 1]);
  const fn = await compile({ inputs: [a, b], outputs: { c: out }, session: { engine } });
  const rng = new Rng(0);
  const data = () => {
    const values = Float32Array.from({ length: N * N }, () => rng.next());
    return { dtype, dims: [N, N], data: dtype === 'float32' ? values : f32ArrayToF16(values) };
  };
  const feeds = { a: data(), b: data() };
  return { run: () => fn.run(feeds), release: () => fn.release() };
}

const matmulGflops = (ms: number) => (2 * N ** 3) / (ms * 1e6);

export async function engineMatmulGflops(
  engine: Engine = 'node',
  dtype: 'float32' | 'float16' = 'float32',
): Promise<number> {
  const w = await matmulWorkload(engine, dtype);
  // A long warm-up: the first hundreds of milliseconds run markedly slower on this machine.
  const ms = median(await timeAsync(w.run, 30, 60));
  await w.release();
  return matmulGflops(ms);
}

/**
 * TensorFlow.js matmul on a backend (dev dependency, only for this comparison). `simd: false` loads the
 * WASM backend's build without SIMD (XNNPACK's scalar kernels), as on a runtime without WebAssembly SIMD.
 */
export async function tfjsMatmulGflops(backend: 'wasm' | 'cpu', simd = true): Promise<number | null> {
  // tfjs prints an advertisement on stdout when it starts in Node; keep stdout for the JSON result.
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    const tf = await import('@tensorflow/tfjs-core');
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await import('@tensorflow/tfjs-backend-cpu');
    if (backend === 'wasm') {
      // The WASM backend picks its binary when it initialises: register it afresh under the flag.
      tf.env().set('WASM_HAS_SIMD_SUPPORT', simd);
      const factory = tf.findBackendFactory('wasm');
      if (tf.findBackend('wasm') && factory) {
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', factory);
      }
    }
    await tf.setBackend(backend);
    await tf.ready();
    console.log = log;
    const a = tf.randomUniform([N, N]);
    const b = tf.randomUniform([N, N]);
    const reps = backend === 'cpu' ? 2 : 4;
    const ms = median(
      await timeAsync(
        async () => {
          const c = tf.matMul(a, b);
          await c.data();
          c.dispose();
        },
        1,
        reps,
      ),
    );
    a.dispose();
    b.dispose();
    return (2 * N ** 3) / (ms * 1e6);
  } catch (e) {
    console.log = log;
    process.stderr.write(`tfjs-${backend} unavailable: ${(e as Error).message}\n`);
    return null;
  }
}

export interface TrainStepBench {
  model: string;
  batch: number;
  seq: number;
  ms: number;
  tokens_per_s: number;
  gflops: number;
  matmul_gflop_per_step: number;
}

/** A BERT-mini training step (forward, loss, backward, clipping, AdamW) on random tokens. */
async function trainStepWorkload(
  batch: number,
  seq: number,
  denseGradients: boolean,
): Promise<Workload & { flops: number }> {
  const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
  const x = textInputs(b);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const loss = classificationLoss(sequenceClassifier(b, x, BERT_MINI).logits, labels);
  const trainable: Tensor[] = [...b.params.values()].map((p) => p.tensor);
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable,
    batch: [x.inputIds, x.attentionMask, labels],
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    denseGradients,
  });
  const flops = matmulFlops(Object.values(step.outputs), { batch, seq });
  const state = step.initState(b.initialValues(0));
  const rng = new Rng(1);
  const feeds = {
    input_ids: {
      dtype: 'int64' as const,
      dims: [batch, seq],
      data: BigInt64Array.from({ length: batch * seq }, () => BigInt(1 + rng.int(30000))),
    },
    attention_mask: {
      dtype: 'int64' as const,
      dims: [batch, seq],
      data: new BigInt64Array(batch * seq).fill(1n),
    },
    labels: {
      dtype: 'int64' as const,
      dims: [batch],
      data: BigInt64Array.from({ length: batch }, () => BigInt(rng.int(2))),
    },
  };
  // One step per ONNX Runtime call. (`plmkit finetune` runs 8 per call, which pays off for short
  // sequences; `plmkit bench finetune` measures that.)
  return { run: () => step.run(state, feeds, 1e-4), release: () => step.release(), flops };
}

function trainStepFigures(batch: number, seq: number, ms: number, flops: number): TrainStepBench {
  return {
    model: 'bert-mini',
    batch,
    seq,
    ms,
    tokens_per_s: (batch * seq * 1000) / ms,
    gflops: flops / (ms * 1e6),
    matmul_gflop_per_step: flops / 1e9,
  };
}

/**
 * The default step (row update of the embedding tables) and the dense embedding update it replaced
 * (src/runtime/row-gradient.ts), timed in alternation. Until 2026-12-01 the dense step was timed alone after
 * the default one had been timed beside the matmul, so the two figures came from different conditions: on a
 * Zen 3 EPYC the dense step then looked 56-138 ms faster.
 */
async function rowsBesideDense(rounds = 5): Promise<{ rows: number; dense: number }> {
  const [batch, seq] = [32, 64];
  const rows = await trainStepWorkload(batch, seq, false);
  const dense = await trainStepWorkload(batch, seq, true);
  const [rowsMs, denseMs] = await timeInAlternation(
    [
      { run: rows.run, warmup: 3, perRound: 2 },
      { run: dense.run, warmup: 3, perRound: 2 },
    ],
    rounds,
  );
  await dense.release();
  await rows.release();
  return { rows: median(rowsMs!), dense: median(denseMs!) };
}

/** The training step and the engine's matmul, timed in alternation: the efficiency is their ratio. */
async function stepAndMatmul(rounds = 5): Promise<{ step: TrainStepBench; matmul: number }> {
  const [batch, seq] = [32, 64];
  const step = await trainStepWorkload(batch, seq, false);
  const mm = await matmulWorkload('node');
  const [stepMs, mmMs] = await timeInAlternation(
    [
      { run: step.run, warmup: 3, perRound: 2 },
      { run: mm.run, warmup: 30, perRound: 12 },
    ],
    rounds,
  );
  await mm.release();
  await step.release();
  return {
    step: trainStepFigures(batch, seq, median(stepMs!), step.flops),
    matmul: matmulGflops(median(mmMs!)),
  };
}

export async function benchEngine(): Promise<Record<string, unknown>> {
  const { step: trainStep, matmul: engine } = await stepAndMatmul();
  const peak = peakRssMb();
  const half = await engineMatmulGflops('node', 'float16');
  // The same step with the dense embedding update that the row update replaced, beside the default one.
  const sideBySide = await rowsBesideDense();
  const web = await engineMatmulGflops('web');
  const wasm = await tfjsMatmulGflops('wasm');
  const wasmScalar = await tfjsMatmulGflops('wasm', false);
  const cpu = await tfjsMatmulGflops('cpu');
  return {
    matmul_gflops: {
      engine,
      // The same product in float16: what mixed-precision training could gain from this CPU's kernels.
      engine_float16: half,
      onnxruntime_web: web,
      tfjs_wasm: wasm,
      tfjs_wasm_without_simd: wasmScalar,
      tfjs_cpu: cpu,
    },
    engine_over_tfjs_wasm: wasm ? engine / wasm : null,
    engine_over_tfjs_wasm_without_simd: wasmScalar ? engine / wasmScalar : null,
    train_step: {
      ...trainStep,
      efficiency: trainStep.gflops / engine,
      // Both timed in alternation with each other (not with the matmul, unlike `ms`).
      side_by_side: { embedding_rows_ms: sideBySide.rows, dense_embedding_update_ms: sideBySide.dense },
    },
    // Of the training step and the matmul, before the comparison step and the other engines; and at the
    // end, with those.
    peak_rss_mb: peak,
    process_peak_rss_mb: peakRssMb(),
  };
}

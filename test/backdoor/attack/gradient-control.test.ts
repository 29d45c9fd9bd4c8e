// Gradient control (Gu et al., 2023): layer groups, ILProj and CLNorm against a plain JavaScript reference of
// the formulas, the identity with both parts off, and a tiny PET model trained with the combined gradients.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLNORM_W_INPUT,
  defaultBeta,
  gradientControl,
  initialClnormWeights,
  layerGroups,
  parseGradientControlOptions,
  type GradientControlOptionsInput,
} from '../../../src/backdoor/attack/index.js';
import { BackdoorError } from '../../../src/backdoor/poison/index.js';
import {
  add,
  constant,
  grad,
  input,
  logSoftmax,
  maskedMean,
  mul,
  neg,
  oneHot,
  param,
  sum,
  tanh,
  Graph,
  type Tensor,
} from '../../../src/graph/index.js';
import { petTraining } from '../../../src/pet/index.js';
import { compile } from '../../../src/runtime/compiled.js';
import type { HostTensor } from '../../../src/runtime/ort.js';
import { Rng } from '../../../src/runtime/random.js';
import { TrainStep } from '../../../src/runtime/train-step.js';
import { f32, i64 } from '../../helpers/host.js';
import { classifierGraph, tinyBase, toyBatch } from '../../pet/helpers.js';

const L = 4;
const specs: [string, number[]][] = [
  ['bert.encoder.layer.0.attention.self.query.lora_A.weight', [2, 3]],
  ['bert.encoder.layer.0.attention.self.query.lora_B.weight', [3, 2]],
  ['bert.encoder.layer.1.attention.output.adapter.up.bias', [5]],
  ['bert.encoder.layer.2.output.adapter.down.weight', [4, 2]],
  ['bert.encoder.layer.3.attention.self.value.lora_A.weight', [6]],
  ['bert.encoder.layer.3.attention.self.value.lora_B.weight', [2, 2]],
  ['classifier.weight', [3, 2]],
  ['classifier.bias', [2]],
];
const names = specs.map(([n]) => n);
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Clean and poisoned gradient vectors: layers 1 and 3 conflict, layer 2 agrees, the rest is random. */
function vectors(seed: number): { c: number[][]; p: number[][] } {
  const rng = new Rng(seed);
  const c: number[][] = [];
  const p: number[][] = [];
  for (const [name, shape] of specs) {
    const n = size(shape);
    const cv = Array.from({ length: n }, () => rng.normal());
    const noise = Array.from({ length: n }, () => rng.normal());
    const l = /layer\.(\d)/.exec(name)?.[1];
    c.push(cv);
    p.push(
      l === '1' || l === '3'
        ? cv.map((v, i) => -0.7 * v + 0.3 * noise[i]!)
        : l === '2'
          ? cv.map((v, i) => 0.5 * v + 0.2 * noise[i]!)
          : l === '0'
            ? noise.map((v) => 3 * v)
            : noise,
    );
  }
  return { c, p };
}

interface Reference {
  grads: number[][];
  wNext?: number[];
  stats: Record<string, number[]>;
}

/** The formulas of the method, in float64 on plain arrays. */
function reference(
  c: number[][],
  p: number[][],
  groupOf: readonly number[],
  opts: GradientControlOptionsInput,
  w: readonly number[],
): Reference {
  const o = parseGradientControlOptions(opts);
  const eps = o.eps;
  const nG = L + 1;
  const members = Array.from({ length: nG }, (_, l) => groupOf.flatMap((g, i) => (g === l ? [i] : [])));
  const dot = (x: number[][], y: number[][], l: number) =>
    members[l]!.reduce((s, i) => s + x[i]!.reduce((t, v, j) => t + v * y[i]![j]!, 0), 0);
  const G = (x: number[][]) => members.map((_, l) => Math.sqrt(dot(x, x, l)));
  const gc = G(c);
  const gp = G(p);
  const stats: Record<string, number[]> = {
    clean_norm: gc,
    poison_norm: gp,
    cosine: members.map((_, l) => dot(c, p, l) / Math.max(gc[l]! * gp[l]!, eps)),
  };
  let ps = p;
  let wNext: number[] | undefined;
  if (o.clnorm.enabled) {
    const la = o.clnorm.anchorLayer ?? Math.floor((L - 1) / 2);
    const nonEmpty = members.filter((m) => m.length > 0).length;
    const avg = gp.reduce((a, b) => a + b, 0) / nonEmpty;
    const zl = members.map((_, l) => (avg / (la - L)) * (l - L));
    wNext = w.map((wl, l) => wl - o.clnorm.alpha * (wl * gp[l]! - zl[l]!) * gp[l]!);
    ps = p.map((v, i) => v.map((x) => x * w[groupOf[i]!]!));
    stats['poison_norm_scaled'] = gp.map((x, l) => x * w[l]!);
    stats['clnorm_target'] = zl;
  }
  let grads: number[][];
  if (o.ilproj.enabled) {
    const beta = o.ilproj.beta ?? defaultBeta(L);
    grads = c.map(() => []);
    stats['conflict'] = [];
    for (let l = 0; l < nG; l++) {
      const d = dot(c, ps, l);
      const kc = d / Math.max(dot(ps, ps, l), eps);
      const kp = d / Math.max(dot(c, c, l), eps);
      stats['conflict'].push(d < 0 ? 1 : 0);
      for (const i of members[l]!) {
        grads[i] = c[i]!.map((cv, j) => {
          const pv = ps[i]![j]!;
          const plain = cv + pv;
          let proj = cv - kc * pv + (pv - kp * cv);
          if (o.ilproj.onlyOnConflict && !(d < 0)) proj = plain;
          return (1 - beta[l]!) * proj + beta[l]! * plain;
        });
      }
    }
  } else grads = c.map((v, i) => v.map((x, j) => x + ps[i]![j]!));
  stats['final_norm'] = G(grads);
  return { grads, ...(wNext ? { wNext } : {}), stats };
}

function close(actual: ArrayLike<number>, expected: readonly number[], what: string, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(
      Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)),
      `${what}[${i}]: ${a} vs ${e} (all: ${Array.from(actual).join(', ')} vs ${expected.join(', ')})`,
    );
  }
}

test('layer groups: by the layer index in the name, the head last; a name without a layer is an error', () => {
  const g = layerGroups(names, L);
  assert.deepEqual(g.groups, [[0, 1], [2], [3], [4, 5], [6, 7]]);
  assert.deepEqual(g.groupOf, [0, 0, 1, 2, 3, 3, 4, 4]);
  const roberta = layerGroups(
    ['roberta.encoder.layer.1.output.parallel_adapter.up.bias', 'classifier.out_proj.weight'],
    2,
  );
  assert.deepEqual(roberta.groups, [[], [0], [1]]);
  assert.throws(
    () => layerGroups(['prefix_encoder.embedding.weight'], 2),
    (e: unknown) =>
      e instanceof BackdoorError && /prefix_encoder\.embedding\.weight.*no encoder layer/.test(e.message),
  );
  assert.throws(
    () => layerGroups(['bert.encoder.layer.2.attention.self.query.lora_A.weight'], 2),
    /layer 2, but the model has 2 layers/,
  );
  assert.deepEqual(defaultBeta(4), [1, 1, 0, 0, 0]);
  assert.deepEqual(defaultBeta(3), [1, 1, 0, 0]);
});

test('options: strict, with defaults (both parts on)', () => {
  const o = parseGradientControlOptions({});
  assert.deepEqual(o, {
    clnorm: { enabled: true, alpha: 1e-4 },
    ilproj: { enabled: true, onlyOnConflict: false },
    eps: 1e-12,
  });
  assert.throws(() => parseGradientControlOptions({ clnorm: { alpha: -1 } }), /clnorm\.alpha/);
  assert.throws(
    () => parseGradientControlOptions({ ilproj: { enabled: true, project: 1 } } as never),
    BackdoorError,
  );
});

/** Losses sum(p * c) and sum(p * d), whose gradients are the constants c and d. */
function linearLosses(c: number[][], p: number[][]) {
  const g = new Graph();
  const params = specs.map(([n, s]) => param(g, n, s));
  const loss = (v: number[][]) =>
    params.reduce((acc: Tensor | undefined, t, i) => {
      const term = sum(mul(t, constant(g, v[i]!, specs[i]![1])));
      return acc ? add(acc, term) : term;
    }, undefined)!;
  const frozen = new Map(specs.map(([n, s]) => [n, new Float32Array(size(s))] as const));
  return { g, params, cleanLoss: loss(c), poisonLoss: loss(p), frozen };
}

const combos: [string, GradientControlOptionsInput][] = [
  ['none', { clnorm: { enabled: false }, ilproj: { enabled: false } }],
  ['ILProj only', { clnorm: { enabled: false } }],
  ['CLNorm only', { ilproj: { enabled: false }, clnorm: { alpha: 0.01 } }],
  ['both', { clnorm: { alpha: 0.01 } }],
  ['both, onlyOnConflict', { clnorm: { alpha: 0.01 }, ilproj: { onlyOnConflict: true } }],
  ['ILProj onlyOnConflict', { clnorm: { enabled: false }, ilproj: { onlyOnConflict: true } }],
  [
    'both, anchor 0, default alpha, beta 0.25 everywhere',
    { clnorm: { anchorLayer: 0 }, ilproj: { beta: [0.25, 0.25, 0.25, 0.25, 0.25] } },
  ],
];

for (const [label, opts] of combos) {
  test(`${label}: gradients, new w and statistics match the reference`, async () => {
    const { c, p } = vectors(7);
    const { params, cleanLoss, poisonLoss, frozen } = linearLosses(c, p);
    const gcRes = gradientControl({ cleanLoss, poisonLoss, params, names, numLayers: L, ...opts });
    const outputs: Record<string, Tensor> = { ...gcRes.stats };
    gcRes.grads.forEach((t, i) => (outputs[`grad:${i}`] = t));
    if (gcRes.wNext) outputs['w_next'] = gcRes.wNext;
    const clnormOn = opts.clnorm?.enabled !== false;
    assert.equal(gcRes.wInput !== undefined, clnormOn);
    const fn = await compile({ inputs: gcRes.wInput ? [gcRes.wInput] : [], outputs, frozen });
    const rng = new Rng(3);
    const w = Array.from({ length: L + 1 }, () => 0.5 + rng.next());
    const out = await fn.run(clnormOn ? { [CLNORM_W_INPUT]: f32([L + 1], w) } : {});
    await fn.release();

    const ref = reference(c, p, gcRes.groups.groupOf, opts, w);
    ref.grads.forEach((e, i) => close(out[`grad:${i}`]!.data as Float32Array, e, `grad ${names[i]}`));
    for (const [k, e] of Object.entries(ref.stats)) close(out[k]!.data as Float32Array, e, k);
    assert.deepEqual(Object.keys(gcRes.stats).sort(), Object.keys(ref.stats).sort());
    if (clnormOn) close(out['w_next']!.data as Float32Array, ref.wNext!, 'w_next');
    // The fixture exercises both branches of onlyOnConflict: layers 1 and 3 conflict, layer 2 does not.
    if (opts.ilproj?.enabled !== false) assert.deepEqual(ref.stats['conflict']!.slice(1, 4), [1, 0, 1]);
  });
}

test('both parts off: the gradient of cleanLoss + poisonLoss', async () => {
  const g = new Graph();
  const rng = new Rng(9);
  const params = specs.map(([n, s]) => param(g, n, s));
  const rand = (s: number[]) =>
    constant(
      g,
      Array.from({ length: size(s) }, () => rng.normal()),
      s,
    );
  const cleanLoss = params.reduce(
    (acc: Tensor, t, i) => add(acc, sum(tanh(mul(t, rand(specs[i]![1])))) as Tensor),
    sum(mul(params[0]!, params[0]!)),
  );
  const poisonLoss = params.reduce(
    (acc: Tensor, t, i) => add(acc, sum(mul(mul(t, t), rand(specs[i]![1])))),
    sum(tanh(params[6]!)),
  );
  const r = gradientControl({
    cleanLoss,
    poisonLoss,
    params,
    numLayers: L,
    clnorm: { enabled: false },
    ilproj: { enabled: false },
  });
  assert.equal(r.wInput, undefined);
  const direct = grad(add(cleanLoss, poisonLoss), params);
  const outputs: Record<string, Tensor> = {};
  params.forEach((_, i) => {
    outputs[`a${i}`] = r.grads[i]!;
    outputs[`b${i}`] = direct[i]!;
  });
  const frozen = new Map(
    specs.map(([n, s]) => [n, Float32Array.from({ length: size(s) }, () => rng.normal())] as const),
  );
  const fn = await compile({ inputs: [], outputs, frozen });
  const out = await fn.run({});
  await fn.release();
  params.forEach((_, i) =>
    close(
      out[`a${i}`]!.data as Float32Array,
      Array.from(out[`b${i}`]!.data as Float32Array),
      `param ${i}`,
      1e-6,
    ),
  );
});

/** A batch of clean rows (the toy task) and poisoned rows (trigger token 97 at position 2, label 1). */
function mixedBatch(): { feeds: Record<string, HostTensor>; rows: number; poisoned: number } {
  const clean = toyBatch('bert', 16, 7, 3);
  const poison = toyBatch('bert', 8, 7, 5);
  const seq = 7;
  const pIds = Array.from(poison['input_ids']!.data as BigInt64Array, Number);
  for (let r = 0; r < 8; r++) pIds[r * seq + 2] = 97;
  const cat = (a: HostTensor, b: ArrayLike<number>) => [
    ...Array.from(a.data as BigInt64Array, Number),
    ...Array.from(b),
  ];
  const rows = 24;
  return {
    rows,
    poisoned: 8,
    feeds: {
      input_ids: i64([rows, seq], cat(clean['input_ids']!, pIds)),
      attention_mask: i64(
        [rows, seq],
        cat(clean['attention_mask']!, Array.from(poison['attention_mask']!.data as BigInt64Array, Number)),
      ),
      token_type_ids: i64([rows, seq], new Array(rows * seq).fill(0)),
      labels: i64([rows], cat(clean['labels']!, new Array(8).fill(1))),
      clean_weight: f32([rows], [...new Array(16).fill(1), ...new Array(8).fill(0)]),
      poison_weight: f32([rows], [...new Array(16).fill(0), ...new Array(8).fill(1)]),
    },
  };
}

test('a tiny LoRA model with its head trains with gradient control, feeding clnorm.w back each step', async () => {
  const base = await tinyBase('bert', 2);
  const numLayers = base.config.numLayers;
  const g = classifierGraph(base, { method: 'lora', r: 4, alpha: 8 }, true);
  const graph = g.b.graph;
  const labels = input(graph, 'labels', 'int64', ['batch']);
  const cw = input(graph, 'clean_weight', 'float32', ['batch']);
  const pw = input(graph, 'poison_weight', 'float32', ['batch']);
  const rowLoss = neg(sum(mul(logSoftmax(g.logits, -1), oneHot(labels, 2)), [-1]));
  const cleanLoss = maskedMean(rowLoss, cw);
  const poisonLoss = maskedMean(rowLoss, pw);
  const setup = petTraining(g.b, g.pet!, base.values, { seed: 11 });
  const gc = gradientControl({
    cleanLoss,
    poisonLoss,
    params: setup.trainable,
    names: setup.trainableNames,
    numLayers,
  });
  assert.deepEqual(
    gc.groups.groups.map((ix) => ix.length),
    [4, 4, 2],
  );
  const step = await TrainStep.create({
    graph,
    loss: add(cleanLoss, poisonLoss),
    terms: { clean: cleanLoss, poison: poisonLoss },
    trainable: setup.trainable,
    frozen: setup.frozen,
    batch: [...g.inputs, labels, cw, pw, gc.wInput!],
    optimizer: { kind: 'adamw', weightDecay: 0 },
    grads: gc.grads,
    extraOutputs: { w: gc.wNext!, ...gc.stats },
  });
  const state = step.initState(setup.initial);
  const { feeds } = mixedBatch();
  let w = initialClnormWeights(numLayers);
  const losses: number[] = [];
  for (let s = 0; s < 40; s++) {
    const r = await step.run(state, { ...feeds, [CLNORM_W_INPUT]: f32([numLayers + 1], w) }, 1e-2);
    losses.push(r.loss);
    const next = r.extras['w']!.data as Float32Array;
    // The update follows w - alpha (w G - z) G with this step's magnitudes and target.
    const G = r.extras['poison_norm']!.data as Float32Array;
    const z = r.extras['clnorm_target']!.data as Float32Array;
    close(
      next,
      Array.from(w, (wl, l) => wl - 1e-4 * (wl * G[l]! - z[l]!) * G[l]!),
      `w at step ${s + 1}`,
    );
    for (const k of ['clean_norm', 'poison_norm', 'cosine', 'final_norm'])
      assert.deepEqual(r.extras[k]!.dims, [numLayers + 1], k);
    w = Float32Array.from(next);
  }
  await step.release();
  assert.ok(
    w.every((v) => Number.isFinite(v)),
    `w ${w.join(', ')}`,
  );
  assert.ok(
    w.some((v) => v !== 1),
    'w moved',
  );
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
});

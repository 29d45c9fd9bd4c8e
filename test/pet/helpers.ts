// Shared pieces of the PET tests: tiny BERT / RoBERTa bases, a toy task, logits of a graph.

import { join } from 'node:path';
import { input } from '../../src/graph/index.js';
import { bindWeights, readPretrained } from '../../src/io/checkpoint.js';
import { classificationLoss, sequenceClassifier, textInputs, type TextInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import type { ModelConfig } from '../../src/nn/config.js';
import { petClassifier, type PetAttachment, type PetConfigInput } from '../../src/pet/index.js';
import { compile } from '../../src/runtime/compiled.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { Rng } from '../../src/runtime/random.js';
import { i64 } from '../helpers/host.js';

export const fixtures = join(import.meta.dirname, '..', 'fixtures');

export type Kind = 'bert' | 'roberta';

export interface Base {
  readonly kind: Kind;
  readonly config: ModelConfig;
  /** Base values for every parameter of a plain classifier (the head freshly initialised). */
  readonly values: Map<string, Float32Array>;
}

/**
 * The tiny fixture model with dropout off: with its own head (BERT: 3 labels, RoBERTa: 2), or with a
 * fresh head for `numLabels` labels.
 */
export async function tinyBase(kind: Kind, numLabels?: number): Promise<Base> {
  const pre = await readPretrained(join(fixtures, 'models', `tiny-${kind}`));
  const config: ModelConfig = {
    ...pre.config,
    hiddenDropout: 0,
    attentionDropout: 0,
    numLabels: numLabels ?? pre.config.numLabels,
  };
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b, kind === 'bert'), config);
  const tensors = numLabels
    ? new Map([...pre.tensors].filter(([k]) => !k.startsWith('classifier.')))
    : pre.tensors;
  const { values } = bindWeights(b, { ...pre, tensors, config }, 5);
  return { kind, config, values };
}

export interface Graph {
  readonly b: ModelBuilder;
  readonly x: TextInputs;
  readonly logits: import('../../src/graph/index.js').Tensor;
  readonly pet: PetAttachment | undefined;
  readonly inputs: import('../../src/graph/index.js').Tensor[];
}

export function classifierGraph(base: Base, pet: PetConfigInput | undefined, training = false): Graph {
  const b = new ModelBuilder({ training, dropoutSeed: 1 });
  const x = textInputs(b, base.kind === 'bert');
  const out = pet
    ? petClassifier(b, x, base.config, pet)
    : { ...sequenceClassifier(b, x, base.config), pet: undefined };
  const inputs = x.tokenTypeIds
    ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
    : [x.inputIds, x.attentionMask];
  return { b, x, logits: out.logits, pet: out.pet, inputs };
}

export function withLoss(g: Graph) {
  const labels = input(g.b.graph, 'labels', 'int64', ['batch']);
  return { labels, loss: classificationLoss(g.logits, labels) };
}

/** Toy task: the label is the parity of the token after the first; padded rows of varying length. */
export function toyBatch(kind: Kind, rows = 16, seq = 7, seed = 3): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const pad = kind === 'bert' ? 0 : 1;
  const first = kind === 'bert' ? 2 : 0;
  const ids: number[] = [];
  const mask: number[] = [];
  const labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    const len = 4 + rng.int(seq - 3);
    const key = 5 + rng.int(90);
    for (let j = 0; j < seq; j++) {
      ids.push(j >= len ? pad : j === 0 ? first : j === 1 ? key : 5 + rng.int(90));
      mask.push(j < len ? 1 : 0);
    }
    labels.push(key % 2);
  }
  return {
    input_ids: i64([rows, seq], ids),
    attention_mask: i64([rows, seq], mask),
    ...(kind === 'bert' ? { token_type_ids: i64([rows, seq], new Array(rows * seq).fill(0)) } : {}),
    labels: i64([rows], labels),
  };
}

export function featuresOf(batch: Record<string, HostTensor>): Record<string, HostTensor> {
  const f = { ...batch };
  delete f['labels'];
  return f;
}

/** Logits of an inference graph with every parameter value given (compiled as initializers). */
export async function logitsOf(
  g: Graph,
  values: ReadonlyMap<string, Float32Array>,
  feeds: Record<string, HostTensor>,
): Promise<Float32Array> {
  const frozen = new Map([...g.b.params.keys()].map((n) => [n, values.get(n)!] as const));
  const missing = [...frozen].filter(([, v]) => !v).map(([n]) => n);
  if (missing.length) throw new Error(`no values for ${missing.join(', ')}`);
  const fn = await compile({ inputs: g.inputs, outputs: { logits: g.logits }, frozen });
  const out = (await fn.run(feeds))['logits']!.data as Float32Array;
  await fn.release();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Batches of tokenized examples: shuffled per epoch from a seed, grouped by length so padding is small
// (as transformers' group_by_length: sort within mega-batches of 50 batches), padded to the longest row.

import type { HostTensor } from '../runtime/ort.js';
import { deriveSeed, Rng } from '../runtime/random.js';

export interface Encoded {
  readonly ids: readonly number[];
  readonly typeIds?: readonly number[];
  readonly label: number;
}

export interface Batch {
  readonly indices: readonly number[];
  readonly feeds: Record<string, HostTensor>;
  readonly tokens: number;
}

/** A batch size is a positive integer (0 or a negative one would never end a loop over the examples). */
function checkBatchSize(batchSize: number): void {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
}

/** Batch order for one epoch: deterministic in (seed, epoch). */
export function epochBatches(
  examples: readonly Encoded[],
  batchSize: number,
  seed: number,
  epoch: number,
  byLength = true,
): number[][] {
  checkBatchSize(batchSize);
  const order = new Rng(deriveSeed(seed, `epoch${epoch}`)).shuffle([...examples.keys()]);
  const batches: number[][] = [];
  const mega = byLength ? batchSize * 50 : batchSize;
  for (let i = 0; i < order.length; i += mega) {
    const chunk = order.slice(i, i + mega);
    if (byLength) chunk.sort((a, b) => examples[b]!.ids.length - examples[a]!.ids.length || a - b);
    for (let j = 0; j < chunk.length; j += batchSize) batches.push(chunk.slice(j, j + batchSize));
  }
  return batches;
}

/** Evaluation batches in input order (sorted by length inside, indices say where each row belongs). */
export function sequentialBatches(examples: readonly Encoded[], batchSize: number): number[][] {
  checkBatchSize(batchSize);
  const order = [...examples.keys()].sort(
    (a, b) => examples[b]!.ids.length - examples[a]!.ids.length || a - b,
  );
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Pads rows to the longest with `padId`; feeds input_ids, attention_mask, token_type_ids (optional), labels. */
export function collate(
  examples: readonly Encoded[],
  indices: readonly number[],
  padId: number,
  opts: { withTypes: boolean; withLabels: boolean; seq?: number },
): Batch {
  const seq = opts.seq ?? Math.max(1, ...indices.map((i) => examples[i]!.ids.length));
  const n = indices.length;
  const ids = new BigInt64Array(n * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(n * seq);
  const types = new BigInt64Array(n * seq);
  const labels = new BigInt64Array(n);
  let tokens = 0;
  indices.forEach((ix, r) => {
    const e = examples[ix]!;
    tokens += e.ids.length;
    for (let j = 0; j < e.ids.length; j++) {
      ids[r * seq + j] = BigInt(e.ids[j]!);
      mask[r * seq + j] = 1n;
      if (e.typeIds) types[r * seq + j] = BigInt(e.typeIds[j]!);
    }
    labels[r] = BigInt(e.label);
  });
  const feeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', dims: [n, seq], data: ids },
    attention_mask: { dtype: 'int64', dims: [n, seq], data: mask },
  };
  if (opts.withTypes) feeds['token_type_ids'] = { dtype: 'int64', dims: [n, seq], data: types };
  if (opts.withLabels) feeds['labels'] = { dtype: 'int64', dims: [n], data: labels };
  return { indices, feeds, tokens };
}

/**
 * Training batches to run in one call (TrainStep.runMany): `chunk`, part or all of an aligned `group` of
 * batches, each padded to the group's longest row, so that a run cut inside a group pads as an uncut run
 * does. A batch of another size (an epoch's last) runs on its own.
 */
export function stepParts(
  examples: readonly Encoded[],
  chunk: readonly (readonly number[])[],
  group: readonly (readonly number[])[],
  padId: number,
  withTypes: boolean,
): Batch[][] {
  const seq = Math.max(...group.flat().map((i) => examples[i]!.ids.length));
  const collated = chunk.map((idx) => collate(examples, idx, padId, { withTypes, withLabels: true, seq }));
  const same = collated.every((c) => c.indices.length === collated[0]!.indices.length);
  return same ? [collated] : collated.map((c) => [c]);
}

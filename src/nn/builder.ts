// Model construction context: the graph, the named parameters with their initialisers, and whether
// the graph is built for training (dropout on) or inference.

import { Graph, type Tensor } from '../graph/graph.js';
import { param } from '../graph/ops/core.js';
import { dropout } from '../graph/ops/nn-ops.js';
import { deriveSeed, Rng } from '../runtime/random.js';

export type Init =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' };

export interface ParamSpec {
  readonly tensor: Tensor;
  readonly init: Init;
  readonly linear: boolean;
}

export interface BuilderOptions {
  /** Dropout on (training graph) or off (inference graph). */
  readonly training: boolean;
  /** Seed for the dropout masks of this graph. */
  readonly dropoutSeed?: number;
}

export class ModelBuilder {
  readonly graph = new Graph();
  readonly params = new Map<string, ParamSpec>();
  private dropouts = 0;
  private sharing = false;

  constructor(readonly options: BuilderOptions) {}

  /** A named parameter; `linear` marks [in, out] weights that checkpoints store transposed. */
  param(name: string, shape: readonly number[], init: Init, linear = false): Tensor {
    const existing = this.params.get(name);
    if (this.sharing && existing) {
      const have = existing.tensor.shape as number[];
      if (have.length !== shape.length || have.some((d, i) => d !== shape[i]))
        throw new Error(
          `shared parameter "${name}" has shape [${have.join(', ')}], asked for [${shape.join(', ')}]`,
        );
      return existing.tensor;
    }
    const tensor = param(this.graph, name, shape);
    this.params.set(name, { tensor, init, linear });
    return tensor;
  }

  /** Runs `build` with existing parameters reused by name (weight sharing, e.g. one head on every layer). */
  shared<T>(build: () => T): T {
    this.sharing = true;
    try {
      return build();
    } finally {
      this.sharing = false;
    }
  }

  /** Dropout in training graphs; each call site gets its own seed stream derived from the graph's seed. */
  dropout(x: Tensor, ratio: number): Tensor {
    if (!this.options.training || ratio === 0) return x;
    return dropout(
      x,
      ratio,
      deriveSeed(this.options.dropoutSeed ?? 0, `dropout${this.dropouts++}`) & 0x7fffffff,
    );
  }

  /** Initial values; each parameter draws from its own stream, so adding a parameter shifts no other. */
  initialValues(seed: number): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, { tensor, init }] of this.params) {
      const size = (tensor.shape as number[]).reduce((a, b) => a * b, 1);
      out.set(name, initialise(size, init, new Rng(deriveSeed(seed, name))));
    }
    return out;
  }
}

export function initialise(size: number, init: Init, rng: Rng): Float32Array {
  const v = new Float32Array(size);
  switch (init.kind) {
    case 'normal':
      for (let i = 0; i < size; i++) v[i] = rng.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < size; i++) v[i] = (rng.next() * 2 - 1) * init.bound;
      break;
    case 'ones':
      v.fill(1);
      break;
    case 'zeros':
      break;
  }
  return v;
}

// Pieces shared by the parameter-efficient tuning methods: errors, the common config fields, target layers,
// the bottleneck module of the adapters, and batch broadcasting of learned vectors.

import { z } from 'zod';
import type { Tensor } from '../graph/graph.js';
import { constant } from '../graph/ops/core.js';
import { add, mul, relu, tanh } from '../graph/ops/elementwise.js';
import { concat, sliceAxis, squeeze, unsqueeze } from '../graph/ops/shape-ops.js';
import { gelu, linear } from '../graph/composite.js';
import type { Init, ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';

export class PetError extends Error {
  override name = 'PetError';
}

/** A model builder that records the names of the parameters a method adds. */
export class PetParams {
  readonly names: string[] = [];
  constructor(readonly b: ModelBuilder) {}
  param(name: string, shape: readonly number[], init: Init, linear = false): Tensor {
    this.names.push(name);
    return this.b.param(name, shape, init, linear);
  }
}

/** Layer indices a method applies to (default: every layer); checked against the model when attached. */
export const layersSchema = z
  .array(z.number().int().nonnegative())
  .nonempty()
  .refine((l) => new Set(l).size === l.length, 'layer indices must be distinct')
  .optional();

export const activationSchema = z.enum(['relu', 'gelu', 'tanh']);
export type Activation = z.infer<typeof activationSchema>;

/**
 * Refuses a structurally pruned model: the methods size their modules (and count their parameters) from
 * the config's uniform layer shape.
 */
export function refusePrunedModel(model: ModelConfig): void {
  if (Object.keys(model.prunedLayers ?? {}).length > 0)
    throw new PetError(
      'PET modules on a pruned model (config.json with pruned_heads or plmkit_layer_intermediate_sizes) are not supported yet',
    );
}

/** The sorted target layers of a config, checked against the model's layer count. */
export function targetLayers(layers: readonly number[] | undefined, model: ModelConfig): number[] {
  refusePrunedModel(model);
  if (!layers) return Array.from({ length: model.numLayers }, (_, i) => i);
  const bad = layers.filter((l) => l >= model.numLayers);
  if (bad.length)
    throw new PetError(
      `layers [${bad.join(', ')}] do not exist: the model has ${model.numLayers} layers (0..${model.numLayers - 1})`,
    );
  return [...layers].sort((a, b) => a - b);
}

export function activate(x: Tensor, act: Activation): Tensor {
  return act === 'relu' ? relu(x) : act === 'gelu' ? gelu(x) : tanh(x);
}

export interface BottleneckInit {
  readonly down: Init;
  readonly up: Init;
}

/** up(act(down(x))): down [hidden, m], up [m, hidden], both with biases, named `${name}.down` / `.up`. */
export function bottleneck(
  b: PetParams,
  name: string,
  x: Tensor,
  hidden: number,
  size: number,
  act: Activation,
  init: BottleneckInit,
): Tensor {
  const zeros = { kind: 'zeros' } as const;
  const down = linear(
    x,
    b.param(`${name}.down.weight`, [hidden, size], init.down, true),
    b.param(`${name}.down.bias`, [size], zeros),
  );
  return linear(
    activate(down, act),
    b.param(`${name}.up.weight`, [size, hidden], init.up, true),
    b.param(`${name}.up.bias`, [hidden], zeros),
  );
}

/** Parameters of one bottleneck module: 2·hidden·m + m + hidden. */
export function bottleneckCount(hidden: number, size: number): number {
  return 2 * hidden * size + size + hidden;
}

/** Zeros [batch, 1, 1] taken from an attention bias [batch, 1, 1, seq] (which is finite: 0 or float32 min). */
function batchZeros(bias: Tensor): Tensor {
  return squeeze(mul(sliceAxis(bias, 3, 0, 1), 0), [1]);
}

/** A learned [P, hidden] table broadcast over the batch of `bias`: [batch, P, hidden]. */
export function perBatch(table: Tensor, bias: Tensor): Tensor {
  return add(unsqueeze(table, [0]), batchZeros(bias));
}

/** The attention bias [batch, 1, 1, seq] with `count` always-attended positions put first. */
export function attendFirst(bias: Tensor, count: number): Tensor {
  const zeros = add(mul(sliceAxis(bias, 3, 0, 1), 0), constant(bias.graph, new Float32Array(count), [count]));
  return concat([zeros, bias], 3);
}

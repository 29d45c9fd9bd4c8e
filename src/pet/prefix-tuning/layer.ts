// Prefix-tuning / P-tuning v2: P trainable key and value vectors in every target layer, put before the
// layer's own keys and values (after their projections, before the split into heads); the attention bias
// gets P zeros in front, so the prefix is always attended. The prefixes of all target layers form one table
// [P, 2 * layers * hidden] laid out as PEFT's prefix encoder output: for the j-th target layer, columns
// [2j * hidden, (2j + 1) * hidden) are its keys and the next `hidden` columns its values.
// Without reparameterization the table is `prefix_encoder.embedding.weight` (initialised N(0, 1) as
// PEFT's nn.Embedding); with it, the table is transform.2(tanh(transform.0(prefix_encoder.embedding.weight)))
// with `prefix_encoder.transform.{0,2}.{weight,bias}` (weights U(-1/sqrt(in), 1/sqrt(in)) as torch's Linear,
// biases zero).

import type { Tensor } from '../../graph/graph.js';
import { linear } from '../../graph/composite.js';
import { tanh } from '../../graph/ops/elementwise.js';
import { sliceAxis } from '../../graph/ops/shape-ops.js';
import { attendFirst, perBatch, targetLayers, type PetParams } from '../common.js';
import type { MethodDef } from '../method.js';
import { prefixTuningConfigSchema, type PrefixTuningConfig } from './config.js';

function prefixTable(p: PetParams, cfg: PrefixTuningConfig, hidden: number, layers: number): Tensor {
  const width = 2 * layers * hidden;
  const P = cfg.numVirtualTokens;
  const normal = { kind: 'normal', std: 1 } as const;
  if (!cfg.reparameterize) return p.param('prefix_encoder.embedding.weight', [P, width], normal);
  const e = cfg.encoderHiddenSize ?? hidden;
  const zeros = { kind: 'zeros' } as const;
  const emb = p.param('prefix_encoder.embedding.weight', [P, hidden], normal);
  const mid = tanh(
    linear(
      emb,
      p.param(
        'prefix_encoder.transform.0.weight',
        [hidden, e],
        { kind: 'uniform', bound: 1 / Math.sqrt(hidden) },
        true,
      ),
      p.param('prefix_encoder.transform.0.bias', [e], zeros),
    ),
  );
  return linear(
    mid,
    p.param(
      'prefix_encoder.transform.2.weight',
      [e, width],
      { kind: 'uniform', bound: 1 / Math.sqrt(e) },
      true,
    ),
    p.param('prefix_encoder.transform.2.bias', [width], zeros),
  );
}

export const prefixTuning: MethodDef<PrefixTuningConfig> = {
  method: 'prefix_tuning',
  reference: 'Li & Liang, 2021, Prefix-Tuning; Liu et al., 2022, P-Tuning v2',
  schema: prefixTuningConfigSchema,
  hooks: (p, cfg, model) => {
    const layers = targetLayers(cfg.layers, model);
    const h = model.hiddenSize;
    let table: Tensor | undefined;
    return {
      layer: (index) => {
        const j = layers.indexOf(index);
        if (j < 0) return undefined;
        return {
          keyValuePrefix: (_x, bias) => {
            table ??= prefixTable(p, cfg, h, layers.length);
            const key = sliceAxis(table, 1, 2 * j * h, (2 * j + 1) * h);
            const value = sliceAxis(table, 1, (2 * j + 1) * h, (2 * j + 2) * h);
            return {
              key: perBatch(key, bias),
              value: perBatch(value, bias),
              bias: attendFirst(bias, cfg.numVirtualTokens),
            };
          },
        };
      },
    };
  },
  count: (cfg, model) => {
    const h = model.hiddenSize;
    const width = 2 * targetLayers(cfg.layers, model).length * h;
    if (!cfg.reparameterize) return cfg.numVirtualTokens * width;
    const e = cfg.encoderHiddenSize ?? h;
    return cfg.numVirtualTokens * h + (h * e + e) + (e * width + width);
  },
  formula:
    'P * 2 * layers * hidden; reparameterized: P * hidden + (hidden * E + E) + (E * 2 * layers * hidden + 2 * layers * hidden)',
};

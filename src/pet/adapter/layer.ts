// Sequential bottleneck adapters (Houlsby et al., 2019; AdapterHub's "houlsby" placement): one after the
// attention output projection and one after the FFN output projection of each target layer, each applied
// after the projection's dropout and before the residual add and LayerNorm: h + up(act(down(h))).
// The down-projection starts N(0, initializer_range), the up-projection (weight and bias) at zero, so every
// adapter starts as the identity and the adapted model equals the base model.
// Parameters: `<layer>.attention.output.adapter.{down,up}.{weight,bias}` and
// `<layer>.output.adapter.{down,up}.{weight,bias}`.

import { add } from '../../graph/ops/elementwise.js';
import type { ModelConfig } from '../../nn/config.js';
import { bottleneck, bottleneckCount, targetLayers } from '../common.js';
import type { MethodDef } from '../method.js';
import { adapterConfigSchema, type AdapterConfig } from './config.js';

export const adapter: MethodDef<AdapterConfig> = {
  method: 'adapter',
  reference: 'Houlsby et al., 2019, Parameter-Efficient Transfer Learning for NLP',
  schema: adapterConfigSchema,
  hooks: (p, cfg, model: ModelConfig) => {
    const layers = new Set(targetLayers(cfg.layers, model));
    const h = model.hiddenSize;
    const init = { down: { kind: 'normal', std: model.initStd }, up: { kind: 'zeros' } } as const;
    return {
      layer: (index, path) =>
        layers.has(index)
          ? {
              attentionOutput: (out) =>
                add(
                  out,
                  bottleneck(
                    p,
                    `${path}.attention.output.adapter`,
                    out,
                    h,
                    cfg.bottleneckSize,
                    cfg.activation,
                    init,
                  ),
                ),
              ffnOutput: (out) =>
                add(
                  out,
                  bottleneck(p, `${path}.output.adapter`, out, h, cfg.bottleneckSize, cfg.activation, init),
                ),
            }
          : undefined,
    };
  },
  count: (cfg, model) =>
    targetLayers(cfg.layers, model).length * 2 * bottleneckCount(model.hiddenSize, cfg.bottleneckSize),
  formula: 'layers * 2 * (2 * hidden * m + m + hidden)',
};

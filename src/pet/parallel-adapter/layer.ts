// Parallel adapters (He et al., 2022, "Towards a Unified View of Parameter-Efficient Transfer Learning"):
// a bottleneck module fed with the FFN input whose output, scaled by s, is added to the FFN output (after
// its dropout, before the residual add and LayerNorm): FFN(x) + s · up(act(down(x))). Optionally the same
// beside the attention sub-layer, fed with the layer input. Initialised as He et al.'s code does for
// the scaled parallel adapter ("lora" init): down U(-1/sqrt(hidden), 1/sqrt(hidden)), up zero.
// Parameters: `<layer>.output.parallel_adapter.{down,up}.*` (and `<layer>.attention.output.parallel_adapter.*`).

import { add, mul } from '../../graph/ops/elementwise.js';
import { bottleneck, bottleneckCount, targetLayers } from '../common.js';
import type { MethodDef } from '../method.js';
import { parallelAdapterConfigSchema, type ParallelAdapterConfig } from './config.js';

export const parallelAdapter: MethodDef<ParallelAdapterConfig> = {
  method: 'parallel_adapter',
  reference: 'He et al., 2022, Towards a Unified View of Parameter-Efficient Transfer Learning',
  schema: parallelAdapterConfigSchema,
  hooks: (p, cfg, model) => {
    const layers = new Set(targetLayers(cfg.layers, model));
    const h = model.hiddenSize;
    const init = { down: { kind: 'uniform', bound: 1 / Math.sqrt(h) }, up: { kind: 'zeros' } } as const;
    const branch = (name: string, x: Parameters<typeof bottleneck>[2]) =>
      mul(bottleneck(p, name, x, h, cfg.bottleneckSize, cfg.activation, init), cfg.scaling);
    return {
      layer: (index, path) =>
        layers.has(index)
          ? {
              ffnOutput: (out, input) => add(out, branch(`${path}.output.parallel_adapter`, input)),
              ...(cfg.attention
                ? {
                    attentionOutput: (out, input) =>
                      add(out, branch(`${path}.attention.output.parallel_adapter`, input)),
                  }
                : {}),
            }
          : undefined,
    };
  },
  count: (cfg, model) =>
    targetLayers(cfg.layers, model).length *
    (cfg.attention ? 2 : 1) *
    bottleneckCount(model.hiddenSize, cfg.bottleneckSize),
  formula: 'layers * (attention ? 2 : 1) * (2 * hidden * m + m + hidden)',
};

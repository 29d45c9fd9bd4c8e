// LoRA layers: y = x W + b + (alpha / r) · dropout(x) A B on the target projections, with A [in, r] and
// B [r, out] (Hugging Face / PEFT store lora_A.weight [r, in] and lora_B.weight [out, r], the transposes:
// the parameters are marked linear, so checkpoints transpose them at the boundary like every other weight).
// A is initialised as PEFT does (kaiming_uniform with a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in))), B at zero,
// so the adapted model starts equal to the base model.

import { matmul } from '../../graph/ops/matmul.js';
import { add, mul } from '../../graph/ops/elementwise.js';
import type { ModelHooks } from '../../nn/bert.js';
import type { ModelConfig } from '../../nn/config.js';
import { targetLayers, type PetParams } from '../common.js';
import type { MethodDef } from '../method.js';
import { LORA_TARGETS, loraConfigSchema, type LoraConfig } from './config.js';

/** The (in, out) sizes of a target projection. */
export function loraShape(target: keyof typeof LORA_TARGETS, model: ModelConfig): [number, number] {
  const h = model.hiddenSize;
  if (target === 'intermediate.dense') return [h, model.intermediateSize];
  if (target === 'output.dense') return [model.intermediateSize, h];
  return [h, h];
}

/** Module paths (Hugging Face names) LoRA adapts under `cfg`, in layer order. */
export function loraModules(
  cfg: LoraConfig,
  model: ModelConfig,
): { path: string; inF: number; outF: number }[] {
  return targetLayers(cfg.layers, model).flatMap((l) =>
    cfg.targetModules.map((t) => {
      const [inF, outF] = loraShape(t, model);
      return { path: `${model.modelType}.encoder.layer.${l}.${LORA_TARGETS[t]}`, inF, outF };
    }),
  );
}

function hooks(p: PetParams, cfg: LoraConfig, model: ModelConfig): ModelHooks {
  const layers = new Set(targetLayers(cfg.layers, model));
  const targets = new Set<string>(cfg.targetModules.map((t) => LORA_TARGETS[t]));
  const scaling = cfg.alpha / cfg.r;
  return {
    layer: (index, path) =>
      layers.has(index)
        ? {
            projection: (name, x, y) => {
              if (!targets.has(name.slice(path.length + 1))) return y;
              const inF = x.shape[x.rank - 1] as number;
              const outF = y.shape[y.rank - 1] as number;
              const a = p.param(
                `${name}.lora_A.weight`,
                [inF, cfg.r],
                { kind: 'uniform', bound: 1 / Math.sqrt(inF) },
                true,
              );
              const b = p.param(`${name}.lora_B.weight`, [cfg.r, outF], { kind: 'zeros' }, true);
              return add(y, mul(matmul(matmul(p.b.dropout(x, cfg.dropout), a), b), scaling));
            },
          }
        : undefined,
  };
}

export const lora: MethodDef<LoraConfig> = {
  method: 'lora',
  reference: 'Hu et al., 2021, LoRA: Low-Rank Adaptation of Large Language Models',
  schema: loraConfigSchema,
  hooks,
  count: (cfg, model) => loraModules(cfg, model).reduce((s, m) => s + cfg.r * (m.inF + m.outF), 0),
  formula: 'sum over target layers and target projections (in x out) of r * (in + out)',
};

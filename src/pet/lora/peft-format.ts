// Hugging Face PEFT's on-disk format for LoRA on a sequence classifier (peft/utils/save_and_load.py):
// adapter_config.json with PEFT's LoraConfig fields, and adapter_model.safetensors with
// `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] (the adapter name
// "default" removed) and the modules_to_save head as `base_model.model.classifier.<param>` (PEFT's
// ModulesToSaveWrapper saves its copy without the `modules_to_save.default` part; older PEFT versions
// wrote the same keys). Loading also accepts the in-memory spellings with `.default` / `.modules_to_save`.

import { z } from 'zod';
import type { ModelConfig } from '../../nn/config.js';
import { PetError } from '../common.js';
import { LORA_TARGETS, type LoraConfig, type LoraTarget } from './config.js';

const PEFT_PREFIX = 'base_model.model.';

/** Our parameter name <-> PEFT's saved key (LoRA matrices and the head); one function for both ways. */
export function mapPeftName(name: string, direction: 'toPeft' | 'fromPeft'): string {
  if (direction === 'toPeft') return PEFT_PREFIX + name;
  if (!name.startsWith(PEFT_PREFIX))
    throw new PetError(`"${name}" is not a PEFT key (no "${PEFT_PREFIX}" prefix)`);
  return name
    .slice(PEFT_PREFIX.length)
    .replace(/\.modules_to_save\.default\./, '.')
    .replace(/\.modules_to_save\./, '.')
    .replace(/\.(lora_[AB])\.default\.weight$/, '.$1.weight');
}

/** PEFT's adapter_config.json for a LoRA config. */
export function peftLoraConfigJson(
  cfg: LoraConfig,
  baseModelNameOrPath: string,
  head: boolean,
  pooler = false,
): Record<string, unknown> {
  const paths = cfg.targetModules.map((t) => LORA_TARGETS[t]);
  // PEFT matches list entries as module-name suffixes; "output.dense" would also match
  // "attention.output.dense", so that target is written as a full-match regex (PEFT's str form).
  const ambiguous = cfg.targetModules.includes('output.dense');
  const layers = cfg.layers ? [...cfg.layers].sort((a, b) => a - b) : undefined;
  const esc = (s: string) => s.replace(/\./g, '\\.');
  const targetModules = ambiguous
    ? `.*\\.encoder\\.layer\\.(${layers ? layers.join('|') : '\\d+'})\\.(${paths.map(esc).join('|')})`
    : [...cfg.targetModules];
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModelNameOrPath,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: layers && !ambiguous ? 'layer' : null,
    layers_to_transform: layers && !ambiguous ? layers : null,
    lora_alpha: cfg.alpha,
    lora_dropout: cfg.dropout,
    // PEFT trains what modules_to_save names; a user retraining in PEFT trains the saved pooler too.
    modules_to_save:
      head || pooler ? [...(head ? ['classifier', 'score'] : []), ...(pooler ? ['pooler'] : [])] : null,
    peft_type: 'LORA',
    r: cfg.r,
    rank_pattern: {},
    revision: null,
    target_modules: targetModules,
    task_type: 'SEQ_CLS',
    use_dora: false,
    use_rslora: false,
  };
}

/** The PEFT LoraConfig fields we read; other keys (newer PEFT options at their defaults) are ignored. */
const peftLoraSchema = z.looseObject({
  peft_type: z.literal('LORA'),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).lt(1).default(0),
  bias: z.literal('none', { error: 'only bias "none" is supported' }).default('none'),
  fan_in_fan_out: z.literal(false, { error: 'fan_in_fan_out must be false' }).default(false),
  use_dora: z.literal(false, { error: 'DoRA is not supported' }).optional(),
  use_rslora: z.literal(false, { error: 'rsLoRA is not supported' }).optional(),
  rank_pattern: z.record(z.string(), z.unknown()).optional(),
  alpha_pattern: z.record(z.string(), z.unknown()).optional(),
  // A token-classification or language-model module has the same tensors; used as a sequence classifier it
  // would predict nonsense without an error.
  task_type: z
    .literal('SEQ_CLS', { error: 'only task_type "SEQ_CLS" (sequence classification) modules load here' })
    .nullish(),
  base_model_name_or_path: z.string().nullish(),
});

/**
 * Our LoRA config from PEFT's adapter_config.json and the saved tensor names (our names): the target
 * projections and layers are read from the tensors actually present, which must be every target in every
 * target layer.
 */
export function loraConfigFromPeft(
  raw: unknown,
  names: readonly string[],
  model: ModelConfig,
  where: string,
): { config: LoraConfig; baseModelNameOrPath: string | null } {
  const r = peftLoraSchema.safeParse(raw);
  if (!r.success)
    throw new PetError(
      `${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const j = r.data;
  for (const k of ['rank_pattern', 'alpha_pattern'] as const)
    if (j[k] && Object.keys(j[k]).length) throw new PetError(`${where}: ${k} is not supported`);
  const byPath = new Map(Object.entries(LORA_TARGETS).map(([t, p]) => [p as string, t as LoraTarget]));
  const found = new Map<number, Set<LoraTarget>>();
  for (const n of names) {
    if (!/\.lora_[AB]\.weight$/.test(n)) continue;
    const m = /^(bert|roberta)\.encoder\.layer\.(\d+)\.(.+)\.lora_[AB]\.weight$/.exec(n);
    if (!m) throw new PetError(`${where}: unsupported LoRA tensor "${n}"`);
    if (m[1] !== model.modelType)
      throw new PetError(
        `${where}: the adapter is for a ${m[1]} model (tensor "${n}"), this model is ${model.modelType}`,
      );
    const layer = Number(m[2]);
    if (layer >= model.numLayers)
      throw new PetError(
        `${where}: the adapter adapts layer ${layer}, this model has ${model.numLayers} layers (layer count mismatch)`,
      );
    const target = byPath.get(m[3]!);
    if (!target) throw new PetError(`${where}: LoRA on "${m[3]}" is not supported (tensor "${n}")`);
    if (!found.has(layer)) found.set(layer, new Set());
    found.get(layer)!.add(target);
  }
  if (found.size === 0) throw new PetError(`${where}: no LoRA tensors`);
  const layers = [...found.keys()].sort((a, b) => a - b);
  const targets = (Object.keys(LORA_TARGETS) as LoraTarget[]).filter((t) => found.get(layers[0]!)!.has(t));
  for (const l of layers)
    if (found.get(l)!.size !== targets.length || targets.some((t) => !found.get(l)!.has(t)))
      throw new PetError(
        `${where}: layers adapt different projections; only the same targets in every layer load`,
      );
  const all = layers.length === model.numLayers;
  return {
    config: {
      method: 'lora',
      r: j.r,
      alpha: j.lora_alpha,
      dropout: j.lora_dropout,
      targetModules: targets as [LoraTarget, ...LoraTarget[]],
      ...(all ? {} : { layers: layers as [number, ...number[]] }),
    } as LoraConfig,
    baseModelNameOrPath: j.base_model_name_or_path ?? null,
  };
}

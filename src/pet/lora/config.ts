// LoRA (Hu et al., 2021) configuration: rank, alpha, dropout on the LoRA input, target projections, layers.

import { z } from 'zod';
import { layersSchema } from '../common.js';

/** Projections LoRA can adapt, by their short name, and their module path inside a layer. */
export const LORA_TARGETS = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  'attention.output.dense': 'attention.output.dense',
  'intermediate.dense': 'intermediate.dense',
  'output.dense': 'output.dense',
} as const;
export type LoraTarget = keyof typeof LORA_TARGETS;

export const loraConfigSchema = z.strictObject({
  method: z.literal('lora'),
  /** Rank r of the update B A. */
  r: z.number().int().positive().default(8),
  /** The update is scaled by alpha / r (PEFT's lora_alpha; default as PEFT). */
  alpha: z.number().positive().default(8),
  /** Dropout on the LoRA branch's input (PEFT's lora_dropout). */
  dropout: z.number().min(0).lt(1).default(0),
  targetModules: z
    .array(z.enum(Object.keys(LORA_TARGETS) as [LoraTarget, ...LoraTarget[]]))
    .nonempty()
    .refine((t) => new Set(t).size === t.length, 'target modules must be distinct')
    .default(['query', 'value']),
  layers: layersSchema,
});
export type LoraConfig = z.output<typeof loraConfigSchema>;

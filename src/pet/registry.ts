// The registry of parameter-efficient tuning methods: one entry per method, keyed by its `method` name.
// The type below makes a missing or mismatched entry a compile error; `checkRegistry` repeats the check at
// load time for the names.

import { z } from 'zod';
import { adapterConfigSchema, type AdapterConfig } from './adapter/config.js';
import { adapter } from './adapter/layer.js';
import { PetError } from './common.js';
import { loraConfigSchema, type LoraConfig } from './lora/config.js';
import { lora } from './lora/layer.js';
import type { MethodDef } from './method.js';
import { parallelAdapterConfigSchema, type ParallelAdapterConfig } from './parallel-adapter/config.js';
import { parallelAdapter } from './parallel-adapter/layer.js';
import { prefixTuningConfigSchema, type PrefixTuningConfig } from './prefix-tuning/config.js';
import { prefixTuning } from './prefix-tuning/layer.js';
import { promptTuningConfigSchema, type PromptTuningConfig } from './prompt-tuning/config.js';
import { promptTuning } from './prompt-tuning/layer.js';

export type PetConfig =
  LoraConfig | AdapterConfig | ParallelAdapterConfig | PrefixTuningConfig | PromptTuningConfig;
export type PetMethod = PetConfig['method'];

export const petConfigSchema = z.discriminatedUnion('method', [
  loraConfigSchema,
  adapterConfigSchema,
  parallelAdapterConfigSchema,
  prefixTuningConfigSchema,
  promptTuningConfigSchema,
]);
/** A config as written by a user: defaults may be left out. */
export type PetConfigInput = z.input<typeof petConfigSchema>;

type Registry = { readonly [M in PetMethod]: MethodDef<Extract<PetConfig, { method: M }>> };

export const PET_METHODS: Registry = {
  lora,
  adapter,
  parallel_adapter: parallelAdapter,
  prefix_tuning: prefixTuning,
  prompt_tuning: promptTuning,
};

function checkRegistry(r: Registry): void {
  for (const [key, def] of Object.entries(r))
    if (def.method !== key) throw new Error(`PET registry: entry "${key}" defines method "${def.method}"`);
}
checkRegistry(PET_METHODS);

export const PET_METHOD_NAMES = Object.keys(PET_METHODS) as PetMethod[];

/**
 * Validates a config and fills its defaults. Errors name the key: an unknown one with the method's keys,
 * a bad `method` with the methods.
 */
export function parsePetConfig(raw: unknown, where = 'PET config'): PetConfig {
  const r = petConfigSchema.safeParse(raw);
  if (r.success) return r.data as PetConfig;
  const method = (raw as { method?: unknown } | null)?.method;
  const issues = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys' && i.path.length === 0) {
      const unknown = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${unknown} for ${String(method)} (keys: ${petConfigKeys(method).join(', ')})`;
    }
    return `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`;
  });
  // Without a method's schema (no object, or no such method), the methods there are.
  const methods = petConfigKeys(method).length ? '' : ` (methods: ${PET_METHOD_NAMES.join(', ')})`;
  throw new PetError(`${where}: ${issues.join('; ')}${methods}`);
}

/** The keys a method's config takes, as its schema declares them; [] for an unknown method. */
function petConfigKeys(method: unknown): string[] {
  const schema = petConfigSchema.options.find((o) => o.shape.method.value === method);
  return schema ? Object.keys(schema.shape) : [];
}

export function methodDef<C extends PetConfig>(cfg: C): MethodDef<C> {
  return PET_METHODS[cfg.method] as unknown as MethodDef<C>;
}

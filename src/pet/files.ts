// A PET module with its classification head on its own, without the base weights, as two files:
// `adapter_config.json` + `adapter_model.safetensors` (linear weights in Hugging Face's [out, in] layout).
// LoRA uses Hugging Face PEFT's exact format (lora/peft-format.ts); the base model's shape is then kept in
// the safetensors header metadata ("plmkit_base_model"), where PEFT does not look. The other methods, which
// PEFT lays out differently or lacks, use plmkit's own adapter_config.json (format "plmkit-pet"): the
// method config, the base model's name or path and its shape. Loading onto a base whose model type,
// hidden size or layer count differ, or as a different method than expected, is refused naming the mismatch.
// A module trained on a base checkpoint without BERT's pooler (an MLM checkpoint, like the bundled model)
// also carries the pooler it was trained with, frozen (PEFT: modules_to_save "pooler"); otherwise PEFT
// would put its own random pooler under the module.
// Everything here works in memory (browsers use it too); ./io.ts reads and writes the files.

import { z } from 'zod';
import { parseSafetensors, tensorToFloat32 } from '../io/safetensors-format.js';
import { serializeSafetensors, type TensorInput } from '../io/safetensors-serialize.js';
import { transpose2d } from '../io/weights.js';
import { textInputs } from '../nn/bert.js';
import { ModelBuilder, type ParamSpec } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { isHeadParam, isPoolerParam, petClassifier } from './attach.js';
import { PetError } from './common.js';
import { loraConfigFromPeft, mapPeftName, peftLoraConfigJson } from './lora/peft-format.js';
import { parsePetConfig, type PetConfig, type PetConfigInput, type PetMethod } from './registry.js';

export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';
/** Label names saved beside a PET module (PEFT's adapter_config.json has no place for them). */
export const PET_LABELS_FILE = 'plmkit_labels.json';

const baseModelSchema = z.strictObject({
  model_type: z.enum(['bert', 'roberta']),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_labels: z.number().int().positive(),
});
type BaseModel = z.infer<typeof baseModelSchema>;

const plmkitConfigSchema = z.strictObject({
  format: z.literal('plmkit-pet'),
  format_version: z.literal(1),
  method: z.string(),
  config: z.record(z.string(), z.unknown()),
  task_type: z.literal('SEQ_CLS'),
  modules_to_save: z.array(z.string()).nullable(),
  base_model_name_or_path: z.string().nullable(),
  base_model: baseModelSchema,
});

function baseModelOf(m: ModelConfig): BaseModel {
  return {
    model_type: m.modelType,
    hidden_size: m.hiddenSize,
    num_hidden_layers: m.numLayers,
    num_attention_heads: m.numHeads,
    intermediate_size: m.intermediateSize,
    num_labels: m.numLabels,
  };
}

/** Refuses a base whose shape differs from the one the module was trained on, naming the field. */
function checkBase(saved: BaseModel, model: ModelConfig, where: string, withHead: boolean): void {
  const now = baseModelOf(model);
  for (const k of Object.keys(saved) as (keyof BaseModel)[]) {
    if (k === 'num_labels' && !withHead) continue;
    if (saved[k] !== now[k])
      throw new PetError(
        `${where}: the PET module was trained on a base model with ${k} ${saved[k]}; this model has ${k} ${now[k]}`,
      );
  }
}

/** The PET and head parameters (names, shapes, linear flags) of a config on a model. */
export function petParamSpecs(
  config: PetConfig | PetConfigInput,
  model: ModelConfig,
): { pet: Map<string, ParamSpec>; head: Map<string, ParamSpec>; pooler: Map<string, ParamSpec> } {
  const b = new ModelBuilder({ training: false });
  const { pet } = petClassifier(b, textInputs(b, model.modelType === 'bert'), model, config);
  const names = new Set(pet.names);
  return {
    pet: new Map([...b.params].filter(([n]) => names.has(n))),
    head: new Map([...b.params].filter(([n]) => isHeadParam(n))),
    pooler: new Map([...b.params].filter(([n]) => isPoolerParam(n))),
  };
}

const storedShape = (spec: ParamSpec) => {
  const s = spec.tensor.shape as number[];
  return spec.linear ? [s[1]!, s[0]!] : [...s];
};

/** plmkit-format modules_to_save: the head ("classifier") and the pooler, or null. */
function modulesToSave(head: boolean, pooler: boolean): string[] | null {
  const m = [...(head ? ['classifier'] : []), ...(pooler ? ['pooler'] : [])];
  return m.length ? m : null;
}

export interface SavePetOptions {
  readonly config: PetConfig | PetConfigInput;
  /** The base model's config (its shape is recorded; numLabels is the head's). */
  readonly model: ModelConfig;
  /** Values of every PET parameter, and of the head when `head`. Other entries are ignored. */
  readonly values: ReadonlyMap<string, Float32Array>;
  readonly baseModelNameOrPath: string;
  /** Save the classification head with the module (default true). */
  readonly head?: boolean;
  /**
   * Save BERT's pooler too (default false): for a base checkpoint that lacks it, whose pooler was
   * initialised when the module was trained. `values` must then hold it.
   */
  readonly pooler?: boolean;
}

/** A module's two files in memory: adapter_config.json's object and adapter_model.safetensors' bytes. */
export interface PetFiles {
  readonly config: Record<string, unknown>;
  readonly weights: Uint8Array;
}

/** The files of a PET module (see the head of this file for the formats). */
export function petFiles(o: SavePetOptions): PetFiles {
  const cfg = parsePetConfig(o.config);
  const withHead = o.head ?? true;
  const specs = petParamSpecs(cfg, o.model);
  const lora = cfg.method === 'lora';
  const tensors = new Map<string, TensorInput>();
  const withPooler = (o.pooler ?? false) && specs.pooler.size > 0;
  for (const [name, spec] of [
    ...specs.pet,
    ...(withHead ? specs.head : []),
    ...(withPooler ? specs.pooler : []),
  ]) {
    const v = o.values.get(name);
    if (!v) throw new PetError(`savePet: no value for parameter "${name}"`);
    const s = spec.tensor.shape as number[];
    tensors.set(lora ? mapPeftName(name, 'toPeft') : name, {
      shape: storedShape(spec),
      data: spec.linear ? transpose2d(v, s[0]!, s[1]!) : v,
    });
  }
  const base = baseModelOf(o.model);
  const json = lora
    ? peftLoraConfigJson(cfg, o.baseModelNameOrPath, withHead, withPooler)
    : {
        format: 'plmkit-pet',
        format_version: 1,
        method: cfg.method,
        config: cfg,
        task_type: 'SEQ_CLS',
        modules_to_save: modulesToSave(withHead, withPooler),
        base_model_name_or_path: o.baseModelNameOrPath,
        base_model: base,
      };
  const metadata: Record<string, string> = lora
    ? { format: 'pt', plmkit_base_model: JSON.stringify(base) }
    : { format: 'pt' };
  return { config: json as Record<string, unknown>, weights: serializeSafetensors(tensors, { metadata }) };
}

export interface LoadedPet {
  readonly config: PetConfig;
  /** PET parameters and, when saved, the head's, in our names and layouts. */
  readonly values: Map<string, Float32Array>;
  /** The head parameters that were loaded (empty when the module was saved without its head). */
  readonly head: readonly string[];
  /** BERT's pooler, when saved with the module (its values are in `values`; it stays frozen). */
  readonly pooler: readonly string[];
  readonly baseModelNameOrPath: string | null;
}

export interface LoadPetOptions {
  /** Refuse a module of another method. */
  readonly method?: PetMethod;
}

/** The base model that plmkit records in a PEFT file's "plmkit_base_model" metadata, checked. */
function parseBaseMetadata(meta: string, file: string): BaseModel {
  let v: unknown;
  try {
    v = JSON.parse(meta);
  } catch (e) {
    throw new PetError(`${file}: metadata "plmkit_base_model" is not valid JSON (${(e as Error).message})`);
  }
  const p = baseModelSchema.safeParse(v);
  if (!p.success)
    throw new PetError(
      `${file}: metadata "plmkit_base_model": ${p.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return p.data;
}

/**
 * A PET module (plmkit's format, or PEFT's for LoRA) for the base model `model`, from adapter_config.json's
 * parsed JSON (`raw`) and adapter_model.safetensors' bytes; `dir` names where they came from in errors.
 */
export function parsePet(
  raw: unknown,
  weights: Uint8Array,
  model: ModelConfig,
  dir: string,
  opts: LoadPetOptions = {},
): LoadedPet {
  const cfgFile = `${dir}/${ADAPTER_CONFIG_NAME}`;
  const file = parseSafetensors(weights, `${dir}/${ADAPTER_WEIGHTS_NAME}`);
  const isPeft = typeof raw === 'object' && raw !== null && 'peft_type' in raw;
  const method = isPeft
    ? String((raw as { peft_type: unknown }).peft_type)
    : (raw as { method?: unknown })?.method;
  const methodName = method === 'LORA' ? 'lora' : String(method);
  if (opts.method && methodName !== opts.method)
    throw new PetError(`${cfgFile}: the PET module is "${methodName}", expected "${opts.method}"`);

  let config: PetConfig;
  let baseName: string | null;
  let stored: Map<string, string>; // our name -> key in the file
  if (isPeft) {
    if (method !== 'LORA')
      throw new PetError(`${cfgFile}: PEFT type "${String(method)}" is not supported (only LORA)`);
    const weightsFile = `${dir}/${ADAPTER_WEIGHTS_NAME}`;
    const meta = file.metadata?.['plmkit_base_model'];
    const keys = [...file.tensors.keys()];
    try {
      stored = new Map(keys.map((k) => [mapPeftName(k, 'fromPeft'), k]));
    } catch (e) {
      throw new PetError(`${weightsFile}: ${(e as Error).message}`);
    }
    const hasHead = [...stored.keys()].some(isHeadParam);
    if (meta) checkBase(parseBaseMetadata(meta, weightsFile), model, cfgFile, hasHead);
    const r = loraConfigFromPeft(raw, [...stored.keys()], model, cfgFile);
    config = r.config;
    baseName = r.baseModelNameOrPath;
  } else {
    const p = plmkitConfigSchema.safeParse(raw);
    if (!p.success)
      throw new PetError(
        `${cfgFile}: ${p.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    config = parsePetConfig(p.data.config, cfgFile);
    if (config.method !== p.data.method)
      throw new PetError(`${cfgFile}: "method" is ${p.data.method} but config.method is ${config.method}`);
    checkBase(p.data.base_model, model, cfgFile, p.data.modules_to_save?.includes('classifier') ?? false);
    baseName = p.data.base_model_name_or_path;
    stored = new Map([...file.tensors.keys()].map((k) => [k, k]));
  }

  const specs = petParamSpecs(config, model);
  const values = new Map<string, Float32Array>();
  const head: string[] = [];
  const used = new Set<string>();
  const take = (name: string, spec: ParamSpec, optional: boolean): boolean => {
    const key = stored.get(name);
    if (!key) {
      if (optional) return false;
      throw new PetError(`${dir}: ${ADAPTER_WEIGHTS_NAME} lacks "${name}"`);
    }
    const t = file.tensors.get(key)!;
    const want = storedShape(spec);
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      throw new PetError(
        `${dir}: tensor "${key}" has shape [${t.shape.join(', ')}], this base model needs [${want.join(', ')}]` +
          ` (hidden size ${model.hiddenSize}, intermediate size ${model.intermediateSize}, ${model.numLabels} labels)`,
      );
    let v: Float32Array;
    try {
      v = tensorToFloat32(t, key);
    } catch (e) {
      throw new PetError(`${dir}/${ADAPTER_WEIGHTS_NAME}: ${(e as Error).message}`);
    }
    values.set(name, spec.linear ? transpose2d(v, want[0]!, want[1]!) : v);
    used.add(key);
    return true;
  };
  for (const [name, spec] of specs.pet) take(name, spec, false);
  const headPresent = [...specs.head.keys()].filter((n) => stored.has(n));
  for (const [name, spec] of specs.head) if (take(name, spec, headPresent.length === 0)) head.push(name);
  const poolerPresent = [...specs.pooler.keys()].filter((n) => stored.has(n));
  const pooler: string[] = [];
  for (const [name, spec] of specs.pooler)
    if (take(name, spec, poolerPresent.length === 0)) pooler.push(name);
  const unused = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (unused.length)
    throw new PetError(
      `${dir}: ${ADAPTER_WEIGHTS_NAME} has tensors this ${config.method} module does not use: ${unused.slice(0, 5).join(', ')}`,
    );
  return { config, values, head, pooler, baseModelNameOrPath: baseName };
}

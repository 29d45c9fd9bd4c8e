// Parameter-efficient tuning: LoRA, sequential and parallel bottleneck adapters, prefix-tuning and prompt
// tuning on BERT and RoBERTa, through hook points of the encoder (src/nn/bert.ts, src/nn/encoder.ts).

export { PetError } from './common.js';
export type { MethodDef } from './method.js';
export {
  PET_METHODS,
  PET_METHOD_NAMES,
  parsePetConfig,
  petConfigSchema,
  type PetConfig,
  type PetConfigInput,
  type PetMethod,
} from './registry.js';
export {
  attachPet,
  headParamCount,
  isHeadParam,
  isPoolerParam,
  petClassifier,
  petParamCount,
  type PetAttachment,
} from './attach.js';
export { petTraining, type PetTraining, type PetTrainingOptions } from './setup.js';
export {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  PET_LABELS_FILE,
  parsePet,
  petFiles,
  petParamSpecs,
  type LoadedPet,
  type LoadPetOptions,
  type PetFiles,
  type SavePetOptions,
} from './files.js';
export { loadPet, savePet } from './io.js';
export { mergeLora, unmergeLora } from './lora/merge.js';
export { mapPeftName, peftLoraConfigJson, loraConfigFromPeft } from './lora/peft-format.js';
export { LORA_TARGETS, type LoraConfig, type LoraTarget } from './lora/config.js';
export type { AdapterConfig } from './adapter/config.js';
export type { ParallelAdapterConfig } from './parallel-adapter/config.js';
export type { PrefixTuningConfig } from './prefix-tuning/config.js';
export type { PromptTuningConfig } from './prompt-tuning/config.js';

// Hugging Face configs and weights to a ModelConfig and parameter values for a ModelBuilder's graph, and
// back, in memory (browsers use this too; ./checkpoint.ts reads and writes model directories). Linear
// weights are stored [out, in] by Hugging Face and [in, out] here; they are transposed at this boundary
// and nowhere else.

import type { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { layerShape, type PrunedLayer } from '../nn/encoder.js';
import { Rng, deriveSeed } from '../runtime/random.js';
import { initialise } from '../nn/builder.js';
import type { HfConfig } from './hf-config-schema.js';
import { tensorToFloat32, type SafeTensor } from './safetensors-format.js';
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function modelConfigFromHf(hf: HfConfig): ModelConfig {
  if (hf.position_embedding_type && hf.position_embedding_type !== 'absolute')
    throw new CheckpointError(
      `position_embedding_type "${hf.position_embedding_type}" is not supported (only "absolute")`,
    );
  return {
    modelType: hf.model_type,
    vocabSize: hf.vocab_size,
    maxPositions: hf.max_position_embeddings,
    typeVocabSize: hf.type_vocab_size,
    padTokenId: hf.pad_token_id,
    hiddenSize: hf.hidden_size,
    numLayers: hf.num_hidden_layers,
    numHeads: hf.num_attention_heads,
    intermediateSize: hf.intermediate_size,
    hiddenDropout: hf.hidden_dropout_prob,
    attentionDropout: hf.attention_probs_dropout_prob,
    layerNormEps: hf.layer_norm_eps,
    initStd: typeof hf['initializer_range'] === 'number' ? (hf['initializer_range'] as number) : 0.02,
    hiddenAct: hf.hidden_act,
    numLabels: hf.num_labels,
    ...(hf.classifier_dropout != null ? { classifierDropout: hf.classifier_dropout } : {}),
    ...prunedLayersFromHf(hf),
  };
}

/** Per-layer sizes from `pruned_heads` and plmkit's `plmkit_layer_intermediate_sizes`, where any differ. */
function prunedLayersFromHf(hf: HfConfig): Pick<ModelConfig, 'prunedLayers'> {
  const prunedLayers: Record<number, PrunedLayer> = {};
  for (let i = 0; i < hf.num_hidden_layers; i++) {
    const heads = [...new Set(hf.pruned_heads?.[String(i)] ?? [])].sort((a, b) => a - b);
    const ffn = hf.plmkit_layer_intermediate_sizes?.[i] ?? hf.intermediate_size;
    if (heads.length > 0 || ffn !== hf.intermediate_size)
      prunedLayers[i] = { prunedHeads: heads, intermediateSize: ffn };
  }
  return Object.keys(prunedLayers).length > 0 ? { prunedLayers } : {};
}

/** config.json keys for a pruned model's per-layer sizes (none for an unpruned one). */
function prunedLayersToHf(cfg: ModelConfig): Record<string, unknown> {
  const layers = Object.entries(cfg.prunedLayers ?? {});
  if (layers.length === 0) return {};
  const heads = layers.filter(([, l]) => l.prunedHeads.length > 0);
  const sizes = Array.from({ length: cfg.numLayers }, (_, i) => layerShape(cfg, i).intermediateSize);
  return {
    ...(heads.length > 0
      ? { pruned_heads: Object.fromEntries(heads.map(([i, l]) => [i, [...l.prunedHeads]])) }
      : {}),
    ...(sizes.some((n) => n !== cfg.intermediateSize) ? { plmkit_layer_intermediate_sizes: sizes } : {}),
  };
}

/** config.json fields for a model config, keeping `base` fields (labels, architectures, extra keys). */
export function hfConfigFromModel(
  cfg: ModelConfig,
  base: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const id2label =
    (base['id2label'] as Record<string, string> | undefined) ??
    Object.fromEntries(Array.from({ length: cfg.numLabels }, (_, i) => [String(i), `LABEL_${i}`]));
  // transformers takes the label count from id2label: a mismatch would reload with a head of another shape.
  if (Object.keys(id2label).length !== cfg.numLabels)
    throw new Error(
      `id2label has ${Object.keys(id2label).length} labels but the model has ${cfg.numLabels}; config.json would not match its weights`,
    );
  return {
    ...base,
    model_type: cfg.modelType,
    architectures: (base['architectures'] as string[] | undefined) ?? [
      cfg.modelType === 'bert' ? 'BertForSequenceClassification' : 'RobertaForSequenceClassification',
    ],
    vocab_size: cfg.vocabSize,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    pad_token_id: cfg.padTokenId,
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    intermediate_size: cfg.intermediateSize,
    hidden_dropout_prob: cfg.hiddenDropout,
    attention_probs_dropout_prob: cfg.attentionDropout,
    layer_norm_eps: cfg.layerNormEps,
    initializer_range: cfg.initStd,
    hidden_act: cfg.hiddenAct ?? 'gelu',
    ...(cfg.classifierDropout !== undefined ? { classifier_dropout: cfg.classifierDropout } : {}),
    // A base config's sizes are replaced by this model's (undefined keys are left out of the file).
    pruned_heads: undefined,
    plmkit_layer_intermediate_sizes: undefined,
    ...prunedLayersToHf(cfg),
    id2label,
    label2id: Object.fromEntries(Object.entries(id2label).map(([i, l]) => [l, Number(i)])),
  };
}

/** Parameter values as Hugging Face stores them: its names, and linear weights as [out, in]. */
export function hfTensors(
  b: ModelBuilder,
  values: ReadonlyMap<string, Float32Array>,
): Map<string, { shape: number[]; data: Float32Array }> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, spec] of b.params) {
    const v = values.get(name);
    if (!v) throw new CheckpointError(`no value for parameter "${name}" to save`);
    const shape = spec.tensor.shape as number[];
    tensors.set(
      name,
      spec.linear
        ? { shape: [shape[1]!, shape[0]!], data: transpose2d(v, shape[0]!, shape[1]!) }
        : { shape: [...shape], data: v },
    );
  }
  return tensors;
}

export interface PretrainedDir {
  readonly dir: string;
  readonly hf: HfConfig;
  readonly config: ModelConfig;
  readonly tensors: ReadonlyMap<string, SafeTensor>;
  readonly files: readonly string[];
}

/**
 * Names a checkpoint may use for one of our parameters (bare encoders, old gamma/beta LayerNorm names, the
 * MLM bias under its tied name).
 */
function candidates(name: string, modelType: string): string[] {
  const out = [name];
  if (name.startsWith(`${modelType}.`)) out.push(name.slice(modelType.length + 1));
  for (const n of [...out]) {
    if (/LayerNorm\.weight$/.test(n)) out.push(n.replace(/weight$/, 'gamma'));
    if (/LayerNorm\.bias$/.test(n)) out.push(n.replace(/bias$/, 'beta'));
    // transformers ties the MLM decoder's bias to cls.predictions.bias; a checkpoint may hold either.
    if (n === 'cls.predictions.bias') out.push('cls.predictions.decoder.bias');
  }
  return out;
}

export interface BoundWeights {
  readonly values: Map<string, Float32Array>;
  /** Our parameters the checkpoint lacked, initialised fresh (a new classification head, say). */
  readonly initialised: readonly string[];
  /** Checkpoint tensors no parameter used (an MLM head when fine-tuning, say). */
  readonly unused: readonly string[];
}

/** A row-major [rows, cols] matrix as [cols, rows] (Hugging Face linear weights <-> ours). */
export function transpose2d(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = v[r * cols + c]!;
  return out;
}

/**
 * Values for every parameter of `b` from checkpoint tensors. Shapes are checked (naming the key and both
 * shapes); parameters matching `mayInitialise` (by default the task head) may be missing and are then
 * initialised with `seed`, any other missing parameter is an error.
 */
export function bindWeights(
  b: ModelBuilder,
  pre: Pick<PretrainedDir, 'dir' | 'tensors' | 'config'>,
  seed = 0,
  mayInitialise: (name: string) => boolean = (n) => /^(classifier|bert\.pooler)\./.test(n),
): BoundWeights {
  const values = new Map<string, Float32Array>();
  const used = new Set<string>();
  const initialised: string[] = [];
  const missing: string[] = [];
  for (const [name, spec] of b.params) {
    const shape = spec.tensor.shape as number[];
    const key = candidates(name, pre.config.modelType).find((k) => pre.tensors.has(k));
    if (!key) {
      if (!mayInitialise(name)) {
        missing.push(name);
        continue;
      }
      const size = shape.reduce((a, c) => a * c, 1);
      values.set(name, initialise(size, spec.init, new Rng(deriveSeed(seed, name))));
      initialised.push(name);
      continue;
    }
    used.add(key);
    const t = pre.tensors.get(key)!;
    const stored = spec.linear ? [shape[1]!, shape[0]!] : shape;
    if (t.shape.length !== stored.length || t.shape.some((d, i) => d !== stored[i]))
      throw new CheckpointError(
        `${pre.dir}: tensor "${key}" has shape [${t.shape.join(', ')}], the model expects [${stored.join(', ')}]`,
      );
    const v = tensorToFloat32(t, key);
    values.set(name, spec.linear ? transpose2d(v, stored[0]!, stored[1]!) : v);
  }
  if (missing.length) {
    // Only the classification head missing: a pretrained encoder (the bundled model is one) given where a
    // fine-tuned classifier is needed.
    const headOnly = missing.every((n) => n.startsWith('classifier.') || n.includes('.pooler.'));
    throw new CheckpointError(
      `${pre.dir}: checkpoint lacks ${missing.length} parameter(s) the model needs: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}` +
        (headOnly
          ? '; it has no classification head (a pretrained encoder): fine-tune it first (plmkit finetune --model ' +
            `${pre.dir} --data ... --out RUN), then give --model RUN/best`
          : ''),
    );
  }
  const unused = [...pre.tensors.keys()].filter((k) => !used.has(k));
  return { values, initialised, unused };
}

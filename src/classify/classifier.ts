// A fine-tuned sequence classifier loaded from a Hugging Face model directory, compiled once for
// inference, predicting and evaluating in batches sorted by length.

import { softmax } from '../graph/ops/nn-ops.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bindWeights, readPretrained, type PretrainedDir } from '../io/checkpoint.js';
import { loadPet, mergeLora } from '../pet/index.js';
import { classifierOnBase } from '../pet/on-base.js';
import { PET_LABELS_FILE } from './setup.js';
import type { Example } from '../io/data/index.js';
import { loadTokenizer, type Tokenizer } from '../io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import { maxSequenceLength } from '../nn/config.js';
import { compile, type CompiledFunction } from '../runtime/compiled.js';
import { collate, sequentialBatches, type Encoded } from './batching.js';
import { encodeExamples, labelMapping } from './encode.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';

export interface Prediction {
  readonly label: string;
  readonly labelId: number;
  readonly probs: number[];
  readonly logits: number[];
}

export class TextClassifier {
  private constructor(
    readonly pre: PretrainedDir,
    readonly tokenizer: Tokenizer,
    private readonly fn: CompiledFunction,
    private readonly withTypes: boolean,
  ) {}

  /** A classifier directory, or a base model directory plus a PET module directory (`adapter`). */
  static async load(dir: string, opts: { adapter?: string; merge?: boolean } = {}): Promise<TextClassifier> {
    const loaded = await readPretrained(dir);
    const tokenizer = await loadTokenizer(dir);
    tokenizer.checkFitsModel(loaded.config.vocabSize, dir);
    const b = new ModelBuilder({ training: false });
    const withTypes = loaded.config.modelType === 'bert';
    let x = textInputs(b, withTypes);
    let pre: PretrainedDir = loaded;
    let logits;
    let values: Map<string, Float32Array>;
    if (opts.adapter) {
      // The module's labels: saved beside it by plmkit, else the base config's.
      const labels = await readFile(join(opts.adapter, PET_LABELS_FILE), 'utf8').then(
        (t) => (JSON.parse(t) as { id2label: Record<string, string> }).id2label,
        () => loaded.hf.id2label,
      );
      const config = { ...loaded.config, numLabels: Object.keys(labels).length };
      pre = { ...loaded, config, hf: { ...loaded.hf, id2label: labels, num_labels: config.numLabels } };
      const module = await loadPet(opts.adapter, config);
      ({ logits, values } = classifierOnBase(b, x, pre, module, opts.adapter));
      if (opts.merge) {
        // LoRA folds into the base weights: the inference graph is then the plain model's.
        if (module.config.method !== 'lora')
          throw new Error(`--merge works for LoRA only; ${opts.adapter} is "${module.config.method}"`);
        values = mergeLora(values, module.config, config);
        const plain = new ModelBuilder({ training: false });
        x = textInputs(plain, withTypes);
        logits = sequenceClassifier(plain, x, config).logits;
      }
    } else {
      logits = sequenceClassifier(b, x, pre.config).logits;
      // A classifier directory must hold its head: nothing may be initialised here.
      values = bindWeights(b, pre, 0, () => false).values;
    }
    const inputs = x.tokenTypeIds
      ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
      : [x.inputIds, x.attentionMask];
    const fn = await compile({ inputs, outputs: { logits, probs: softmax(logits, -1) }, frozen: values });
    return new TextClassifier(pre, tokenizer, fn, withTypes);
  }

  get labelNames(): string[] {
    const m = this.pre.hf.id2label;
    return Array.from({ length: this.pre.config.numLabels }, (_, i) => m[String(i)] ?? `LABEL_${i}`);
  }

  async encode(
    examples: readonly Pick<Example, 'text' | 'textPair'>[],
    maxLength: number,
  ): Promise<Encoded[]> {
    return encodeExamples(
      this.tokenizer,
      examples.map((e) => ({ ...e, label: 0 })),
      Math.min(maxLength, maxSequenceLength(this.pre.config)),
    );
  }

  /** Predictions in input order. */
  async predict(
    examples: readonly Pick<Example, 'text' | 'textPair'>[],
    opts: { batchSize?: number; maxLength?: number } = {},
  ): Promise<Prediction[]> {
    const enc = await this.encode(examples, opts.maxLength ?? 512);
    const n = this.pre.config.numLabels;
    const out: Prediction[] = new Array(enc.length);
    const pad = this.tokenizer.padId ?? 0;
    const names = this.labelNames;
    for (const idx of sequentialBatches(enc, opts.batchSize ?? 64)) {
      const feeds = collate(enc, idx, pad, { withTypes: this.withTypes, withLabels: false }).feeds;
      const r = await this.fn.run(feeds);
      const logits = r['logits']!.data as Float32Array;
      const probs = r['probs']!.data as Float32Array;
      idx.forEach((ix, row) => {
        const l = Array.from(logits.subarray(row * n, (row + 1) * n));
        const p = Array.from(probs.subarray(row * n, (row + 1) * n));
        const labelId = l.indexOf(Math.max(...l)); // of the logits, as eval and transformers take it
        out[ix] = { label: names[labelId]!, labelId, probs: p, logits: l };
      });
    }
    return out;
  }

  /**
   * Accuracy and macro-F1 on labelled examples whose label names are `dataLabelNames`. Labels are mapped
   * to the model's before anything runs; one the model lacks is an error naming `source:line` of the first
   * example with it, where the examples carry their lines and `source` (the file they came from) is given.
   */
  async evaluate(
    examples: readonly Example[],
    dataLabelNames: readonly string[],
    opts: { batchSize?: number; maxLength?: number; source?: string } = {},
  ): Promise<ClassificationMetrics> {
    const gold = modelLabelIds(this.pre.hf.id2label, dataLabelNames, examples, opts.source);
    const preds = await this.predict(examples, opts);
    return classificationMetrics(
      gold,
      preds.map((p) => p.labelId),
    );
  }

  /** Writes the inference graph (weights included) as an .onnx file, atomically. */
  async saveOnnx(path: string): Promise<void> {
    await this.fn.save(path);
  }

  async release(): Promise<void> {
    await this.fn.release();
  }
}

/**
 * The model's label id of each example (see `labelMapping`), or an error naming `source:line` of the first
 * example whose label the model lacks (the mapping's own error where the place is not known).
 */
export function modelLabelIds(
  modelId2label: Readonly<Record<string, string>>,
  dataLabelNames: readonly string[],
  examples: readonly Example[],
  source?: string,
): number[] {
  const modelNames = Object.values(modelId2label);
  const at = (e: Example | undefined) =>
    e !== undefined && source !== undefined && e.line !== undefined ? `${source}:${e.line}: ` : undefined;
  let toModel: (id: number) => number;
  try {
    toModel = labelMapping(modelId2label, dataLabelNames);
  } catch (e) {
    // More data labels than model labels, taken as class ids: the first row whose id the model lacks.
    const first = examples.find((x) => x.label >= modelNames.length);
    const where = at(first);
    if (first === undefined || where === undefined) throw e;
    const integers = dataLabelNames.every((n, i) => n === String(i));
    const models = `${modelNames.length} labels (${modelNames.join(', ')})`;
    throw new Error(
      integers
        ? `${where}label ${first.label} is not one of the model's class ids 0 to ${modelNames.length - 1} ` +
            `(${modelNames.join(', ')}); the data has class ids up to ${dataLabelNames.length - 1}`
        : `${where}label ${JSON.stringify(dataLabelNames[first.label])} is class ${first.label} of the data's ` +
            `${dataLabelNames.length} labels (${dataLabelNames.join(', ')}) but the model has ${models}`,
      { cause: e },
    );
  }
  return examples.map((x) => {
    try {
      return toModel(x.label);
    } catch (e) {
      const where = at(x);
      if (where === undefined) throw e;
      throw new Error(
        `${where}label ${JSON.stringify(dataLabelNames[x.label])} is not one of the model's labels ` +
          `(${modelNames.join(', ')})`,
        { cause: e },
      );
    }
  });
}

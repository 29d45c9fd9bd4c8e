// A sequence classifier in a browser: a Hugging Face classifier directory's files, tokenized by
// @huggingface/tokenizers (pure JavaScript) and run by onnxruntime-web.

import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { collate, sequentialBatches, type Encoded } from '../classify/batching.js';
import { softmax } from '../graph/ops/nn-ops.js';
import { parseHfConfig } from '../io/hf-config-schema.js';
import { bindWeights, modelConfigFromHf } from '../io/weights.js';
import { sequenceClassifier, textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { compile, type CompiledFunction } from '../runtime/compiled.js';
import { webSession } from '../runtime/ort.js';
import { encodeInput, truncationSide, type BrowserInput } from './encode.js';
import {
  checkTokenizerFitsModel,
  modelTensors,
  type ModelFiles,
  type PetModuleFiles,
} from './model-files.js';
import { parsePet } from '../pet/files.js';
import { classifierOnBase } from '../pet/on-base.js';

export interface BrowserPrediction {
  readonly label: string;
  readonly labelId: number;
  readonly probs: number[];
  readonly logits: number[];
}

export class BrowserClassifier {
  private constructor(
    readonly config: ModelConfig,
    readonly labelNames: readonly string[],
    private readonly tokenizer: JsTokenizer,
    private readonly padId: number,
    private readonly fn: CompiledFunction,
    private readonly side: 'right' | 'left',
  ) {}

  /**
   * A classifier directory's files (config.json with its labels, weights including the head); or, with
   * `adapter`, a base model's files and a PET module's (its head and labels; the base's head is dropped),
   * as `plmkit predict --adapter` loads them. `executionProviders` are onnxruntime-web's, in order of
   * preference (default: WebAssembly; `['webgpu']` needs a bundle of onnxruntime-web with WebGPU).
   */
  static async load(
    files: ModelFiles,
    opts: {
      readonly adapter?: PetModuleFiles;
      readonly executionProviders?: readonly string[] | undefined;
    } = {},
  ): Promise<BrowserClassifier> {
    const hf = parseHfConfig(files.config, 'config.json');
    const base = modelConfigFromHf(hf);
    const tensors = modelTensors(files);
    checkTokenizerFitsModel(files.tokenizer, base.vocabSize);
    const tokenizer = new JsTokenizer(files.tokenizer as object, files.tokenizerConfig as object);
    const b = new ModelBuilder({ training: false });
    const x = textInputs(b, base.modelType === 'bert');
    let logits;
    let values: Map<string, Float32Array>;
    let id2label: Readonly<Record<string, string>> = hf.id2label;
    let config = base;
    if (opts.adapter) {
      id2label = opts.adapter.id2label ?? hf.id2label;
      config = { ...base, numLabels: Object.keys(id2label).length };
      const module = parsePet(opts.adapter.config, opts.adapter.weights, config, 'adapter');
      ({ logits, values } = classifierOnBase(
        b,
        x,
        { dir: 'model.safetensors', tensors, config },
        module,
        'adapter',
      ));
    } else {
      logits = sequenceClassifier(b, x, config).logits;
      // A classifier must hold its head: nothing may be initialised here.
      values = bindWeights(b, { dir: 'model.safetensors', tensors, config }, 0, () => false).values;
    }
    const inputs = x.tokenTypeIds
      ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
      : [x.inputIds, x.attentionMask];
    const fn = await compile({
      inputs,
      outputs: { logits, probs: softmax(logits, -1) },
      frozen: values,
      session: webSession(opts.executionProviders),
    });
    const labels = Array.from({ length: config.numLabels }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`);
    return new BrowserClassifier(
      config,
      labels,
      tokenizer,
      config.padTokenId,
      fn,
      truncationSide(files.tokenizerConfig),
    );
  }

  /** Token ids (and type ids) with the model's special tokens; long inputs are cut (encodeInput). */
  encode(input: BrowserInput, maxLength = 512): Encoded {
    return encodeInput(this.tokenizer, this.config, input, maxLength, 0, this.side);
  }

  /** Predictions in input order. */
  async predict(
    inputs: readonly BrowserInput[],
    opts: { batchSize?: number; maxLength?: number } = {},
  ): Promise<BrowserPrediction[]> {
    const enc = inputs.map((t) => this.encode(t, opts.maxLength));
    const n = this.config.numLabels;
    const out: BrowserPrediction[] = new Array(enc.length);
    for (const idx of sequentialBatches(enc, opts.batchSize ?? 32)) {
      const { feeds } = collate(enc, idx, this.padId, {
        withTypes: this.config.modelType === 'bert',
        withLabels: false,
      });
      const r = await this.fn.run(feeds);
      const logits = r['logits']!.data as Float32Array;
      const probs = r['probs']!.data as Float32Array;
      idx.forEach((ix, row) => {
        const p = Array.from(probs.subarray(row * n, row * n + n));
        const l = Array.from(logits.subarray(row * n, row * n + n));
        // The label of the largest logit (softmax can round two near logits to one probability).
        const labelId = l.indexOf(Math.max(...l));
        out[ix] = { label: this.labelNames[labelId]!, labelId, probs: p, logits: l };
      });
    }
    return out;
  }

  async release(): Promise<void> {
    await this.fn.release();
  }
}

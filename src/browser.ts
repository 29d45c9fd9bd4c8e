// plmkit in a browser: a BERT/RoBERTa sequence classifier from a Hugging Face model directory's files,
// tokenized by @huggingface/tokenizers (pure JavaScript) and run by onnxruntime-web. No module this one
// loads touches a file system or a native package; a page fetches the files (see `fetchModelFiles`).

import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { collate, sequentialBatches, type Encoded } from './classify/batching.js';
import { softmax } from './graph/ops/nn-ops.js';
import { parseHfConfig } from './io/hf-config-schema.js';
import { parseSafetensors } from './io/safetensors-format.js';
import { bindWeights, modelConfigFromHf } from './io/weights.js';
import { sequenceClassifier, textInputs } from './nn/bert.js';
import { ModelBuilder } from './nn/builder.js';
import { maxSequenceLength, type ModelConfig } from './nn/config.js';
import { compile, type CompiledFunction } from './runtime/compiled.js';

/** The files of a model directory, already read: JSON files parsed, the weights as bytes. */
export interface ModelFiles {
  /** config.json */
  readonly config: unknown;
  /** model.safetensors (a single file; fp32, fp16 or bf16) */
  readonly weights: Uint8Array;
  /** tokenizer.json */
  readonly tokenizer: unknown;
  /** tokenizer_config.json */
  readonly tokenizerConfig: unknown;
}

/** Fetches a model directory's files from a base URL (e.g. where `models/plmkit-bert-mini` is served). */
export async function fetchModelFiles(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelFiles> {
  const get = async (name: string) => {
    const url = `${baseUrl.replace(/\/$/, '')}/${name}`;
    const r = await fetchFn(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r;
  };
  const [config, weights, tokenizer, tokenizerConfig] = await Promise.all([
    get('config.json').then((r) => r.json()),
    get('model.safetensors').then(async (r) => new Uint8Array(await r.arrayBuffer())),
    get('tokenizer.json').then((r) => r.json()),
    get('tokenizer_config.json').then((r) => r.json()),
  ]);
  return { config, weights, tokenizer, tokenizerConfig };
}

export interface BrowserPrediction {
  readonly label: string;
  readonly labelId: number;
  readonly probs: number[];
  readonly logits: number[];
}

export type BrowserInput = string | { readonly text: string; readonly textPair?: string };

export class BrowserClassifier {
  private constructor(
    readonly config: ModelConfig,
    readonly labelNames: readonly string[],
    private readonly tokenizer: JsTokenizer,
    private readonly padId: number,
    private readonly fn: CompiledFunction,
  ) {}

  /** A classifier directory's files (config.json with its labels, weights including the head). */
  static async load(files: ModelFiles): Promise<BrowserClassifier> {
    const hf = parseHfConfig(files.config, 'config.json');
    const config = modelConfigFromHf(hf);
    const tensors = parseSafetensors(files.weights, 'model.safetensors').tensors;
    const tokenizer = new JsTokenizer(files.tokenizer as object, files.tokenizerConfig as object);
    const b = new ModelBuilder({ training: false });
    const x = textInputs(b, config.modelType === 'bert');
    const logits = sequenceClassifier(b, x, config).logits;
    // A classifier must hold its head: nothing may be initialised here.
    const values = bindWeights(b, { dir: 'model.safetensors', tensors, config }, 0, () => false).values;
    const inputs = x.tokenTypeIds
      ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
      : [x.inputIds, x.attentionMask];
    const fn = await compile({
      inputs,
      outputs: { logits, probs: softmax(logits, -1) },
      frozen: values,
      session: { engine: 'web' },
    });
    const labels = Array.from({ length: config.numLabels }, (_, i) => hf.id2label[String(i)] ?? `LABEL_${i}`);
    return new BrowserClassifier(config, labels, tokenizer, config.padTokenId, fn);
  }

  /**
   * Token ids (and type ids) with the model's special tokens. A single text longer than `maxLength` (at most
   * the model's positions) is cut at the end, keeping the special tokens; a pair that long is refused.
   */
  encode(input: BrowserInput, maxLength = 512): Encoded {
    const { text, textPair } = typeof input === 'string' ? { text: input, textPair: undefined } : input;
    const limit = Math.min(maxLength, maxSequenceLength(this.config));
    const opts = { text_pair: textPair ?? null, return_token_type_ids: true as const };
    const full = this.tokenizer.encode(text, opts);
    if (full.ids.length <= limit) return { ids: full.ids, typeIds: full.token_type_ids, label: 0 };
    if (textPair !== undefined)
      throw new Error(
        `a text pair of ${full.ids.length} tokens exceeds ${limit}; truncating pairs is not supported here`,
      );
    // The template around a single text: its special tokens before and after the content.
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const ids0: number[] = full.ids;
    const at = (k: number) => content.every((id: number, j: number) => ids0[k + j] === id);
    const before = Array.from({ length: ids0.length - content.length + 1 }, (_, k) => k).find(at);
    if (before === undefined) throw new Error("the tokenizer's template does not contain the text's tokens");
    const after = full.ids.length - before - content.length;
    const keep = limit - before - after;
    const ids = [
      ...full.ids.slice(0, before),
      ...content.slice(0, keep),
      ...full.ids.slice(full.ids.length - after),
    ];
    return { ids, typeIds: new Array<number>(ids.length).fill(0), label: 0 };
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
        const labelId = p.indexOf(Math.max(...p));
        out[ix] = {
          label: this.labelNames[labelId]!,
          labelId,
          probs: p,
          logits: Array.from(logits.subarray(row * n, row * n + n)),
        };
      });
    }
    return out;
  }

  async release(): Promise<void> {
    await this.fn.release();
  }
}

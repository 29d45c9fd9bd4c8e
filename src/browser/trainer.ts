// Fine-tuning a sequence classifier in a browser: a Hugging Face directory's files (a pre-trained encoder,
// or a classifier to train further), labelled examples in memory, the same compiled training step as
// `plmkit finetune` (AdamW with linear warmup and decay, global-norm clipping, seeded dropout, 8 steps per
// ONNX Runtime call) run by onnxruntime-web, and the result as a classifier directory's files again.
// There is no file system here: no checkpoints, logs or resuming; a page keeps what toModelFiles gives.

import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { epochBatches, stepParts, type Encoded } from '../classify/batching.js';
import { FINETUNE_HYPERPARAMETERS } from '../classify/hyperparameters.js';
import { classificationMetrics, type ClassificationMetrics } from '../classify/metrics.js';
import { input } from '../graph/ops/core.js';
import { parseHfConfig } from '../io/hf-config-schema.js';
import { serializeSafetensors } from '../io/safetensors-serialize.js';
import { bindWeights, hfConfigFromModel, hfTensors, modelConfigFromHf } from '../io/weights.js';
import { classificationLoss, sequenceClassifier, textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { webSession } from '../runtime/ort.js';
import { linearSchedule } from '../runtime/schedule.js';
import { TrainStep } from '../runtime/train-step.js';
import { BrowserClassifier } from './classifier.js';
import { encodeInput, truncationSide } from './encode.js';
import {
  checkTokenizerFitsModel,
  modelTensors,
  type ModelFiles,
  type PetModuleFiles,
} from './model-files.js';
import { isHeadParam, isPoolerParam, petClassifier } from '../pet/attach.js';
import { petFiles } from '../pet/files.js';
import { mergeLora } from '../pet/lora/merge.js';
import { parsePetConfig, type PetConfig, type PetConfigInput } from '../pet/registry.js';
import { SEED } from '../runtime/random.js';

export interface BrowserExample {
  readonly text: string;
  readonly textPair?: string;
  /** A label name, or its index in the trainer's labels. */
  readonly label: string | number;
}

/** Fine-tuning options, with `plmkit finetune`'s defaults. */
const TrainOptions = z.strictObject({
  ...FINETUNE_HYPERPARAMETERS,
  /** A regular expression over parameter names: only those train (default: all). */
  trainable: z.string().optional(),
});

export interface BrowserStep {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
}

export type BrowserTrainOptions = z.input<typeof TrainOptions> & {
  /** Called after every step (in groups: a call runs several steps). */
  readonly onStep?: (s: BrowserStep) => void;
};

export interface BrowserTrainResult {
  readonly steps: number;
  /** The training loss of every step, in order. */
  readonly losses: readonly number[];
}

const MAY_INITIALISE = /^(classifier|bert\.pooler)\./;

export class BrowserTrainer {
  private classifier: Promise<BrowserClassifier> | undefined;

  private constructor(
    readonly config: ModelConfig,
    readonly labelNames: readonly string[],
    /** Parameters initialised here, not read from the files: a new head, BERT's pooler after an MLM. */
    readonly initialised: readonly string[],
    private readonly tokenizer: JsTokenizer,
    private readonly files: ModelFiles,
    private readonly builder: ModelBuilder,
    private readonly values: Map<string, Float32Array>,
    private readonly seed: number,
    /** The PET method trained instead of the whole model, with its parameters' names. */
    private readonly pet: { readonly config: PetConfig; readonly names: ReadonlySet<string> } | undefined,
    private readonly executionProviders: readonly string[] | undefined,
  ) {}

  /**
   * A classifier for `labels` on the model in `files`. A head for another number of labels (or none, as in
   * a masked-LM checkpoint) is initialised from `seed`, which also orders batches and seeds dropout. With
   * `pet` (a method's config, as `plmkit finetune --pet` takes it), the module is attached, initialised from
   * `seed`, and it and the head are what trains, the base frozen. `executionProviders` are onnxruntime-web's,
   * for training and evaluation (as BrowserClassifier.load takes them; on WebGPU, dropout masks come from
   * RandomUniformLike, see EmitSpec.dropoutFromUniform).
   */
  static async create(
    files: ModelFiles,
    opts: {
      readonly labels: readonly string[];
      readonly seed?: number;
      readonly pet?: PetConfigInput;
      readonly executionProviders?: readonly string[];
    },
  ): Promise<BrowserTrainer> {
    const labels = [...opts.labels];
    if (labels.length < 2 || new Set(labels).size !== labels.length)
      throw new Error(`labels must be two or more distinct names, got ${JSON.stringify(labels)}`);
    const seed = opts.seed ?? 42;
    // Seeds are mixed as 32-bit integers: NaN, fractions or larger values would alias other seeds.
    if (!SEED.safeParse(seed).success)
      throw new Error(`BrowserTrainer: seed must be an integer from 0 to 2^32 - 1, got ${seed}`);
    const hf = parseHfConfig(files.config, 'config.json');
    const pre = modelConfigFromHf(hf);
    const config: ModelConfig = { ...pre, numLabels: labels.length };
    const all = modelTensors(files);
    // A head trained for another label count is left out and initialised fresh (as `plmkit finetune`).
    const tensors =
      pre.numLabels === labels.length ? all : new Map([...all].filter(([k]) => !/^classifier\./.test(k)));
    const pet = opts.pet === undefined ? undefined : parsePetConfig(opts.pet, 'pet');
    const b = new ModelBuilder({ training: false });
    const x = textInputs(b, config.modelType === 'bert');
    const names = new Set(pet ? petClassifier(b, x, config, pet).pet.names : []);
    if (!pet) sequenceClassifier(b, x, config);
    // The module's parameters are initialised as petTraining initialises them (deriveSeed(seed, name)).
    const bound = bindWeights(
      b,
      { dir: 'model.safetensors', tensors, config },
      seed,
      (n) => names.has(n) || MAY_INITIALISE.test(n),
    );
    checkTokenizerFitsModel(files.tokenizer, config.vocabSize);
    const tokenizer = new JsTokenizer(files.tokenizer as object, files.tokenizerConfig as object);
    const initialised = bound.initialised.filter((n) => !names.has(n));
    return new BrowserTrainer(
      config,
      labels,
      initialised,
      tokenizer,
      files,
      b,
      bound.values,
      seed,
      pet && { config: pet, names },
      opts.executionProviders,
    );
  }

  /** Examples as model inputs; a label that is neither a name nor an index is an error naming the example. */
  encode(examples: readonly BrowserExample[], maxLength: number): Encoded[] {
    return examples.map((e, i) => {
      const label = typeof e.label === 'number' ? e.label : this.labelNames.indexOf(e.label);
      if (!Number.isInteger(label) || label < 0 || label >= this.labelNames.length)
        throw new Error(
          `example ${i}: label ${JSON.stringify(e.label)} is not one of ${this.labelNames.join(', ')} (or 0-${this.labelNames.length - 1})`,
        );
      const text = e.textPair === undefined ? e.text : { text: e.text, textPair: e.textPair };
      return encodeInput(
        this.tokenizer,
        this.config,
        text,
        maxLength,
        label,
        truncationSide(this.files.tokenizerConfig),
      );
    });
  }

  /** Fine-tunes the current weights on `examples` (a fresh optimizer each call). */
  async train(
    examples: readonly BrowserExample[],
    options: BrowserTrainOptions = {},
  ): Promise<BrowserTrainResult> {
    const { onStep, ...rest } = options;
    const parsed = TrainOptions.safeParse(rest);
    if (!parsed.success) throw new Error(`BrowserTrainer.train: ${z.prettifyError(parsed.error)}`);
    const o = parsed.data;
    const train = this.encode(examples, o.maxLength);
    if (train.length === 0) throw new Error('BrowserTrainer.train: no examples');
    const pattern = o.trainable === undefined ? undefined : new RegExp(o.trainable);
    // By default everything trains; with a PET module, the module and the head.
    const pet = this.pet;
    const isTrainable = (name: string) =>
      pattern?.test(name) ?? (pet ? pet.names.has(name) || isHeadParam(name) : true);

    const withTypes = this.config.modelType === 'bert';
    const b = new ModelBuilder({ training: true, dropoutSeed: this.seed });
    const x = textInputs(b, withTypes);
    const labels = input(b.graph, 'labels', 'int64', ['batch']);
    const logits = pet
      ? petClassifier(b, x, this.config, pet.config).logits
      : sequenceClassifier(b, x, this.config).logits;
    const loss = classificationLoss(logits, labels);
    const trainable = [...b.params].filter(([n]) => isTrainable(n)).map(([, p]) => p.tensor);
    if (trainable.length === 0)
      throw new Error(`BrowserTrainer.train: no parameter matches /${o.trainable}/`);
    const step = await TrainStep.create({
      graph: b.graph,
      loss,
      trainable,
      frozen: new Map([...this.values].filter(([n]) => !isTrainable(n))),
      batch: [x.inputIds, x.attentionMask, ...(x.tokenTypeIds ? [x.tokenTypeIds] : []), labels],
      optimizer: { kind: 'adamw', weightDecay: o.weightDecay },
      clipNorm: o.clipNorm,
      session: webSession(this.executionProviders),
    });
    const state = step.initState(new Map([...this.values].filter(([n]) => isTrainable(n))));
    const perEpoch = Math.ceil(train.length / o.batchSize);
    const total = perEpoch * o.epochs;
    const schedule = linearSchedule(total, o.warmupRatio);
    const losses: number[] = [];
    try {
      for (let epoch = 0; epoch < o.epochs; epoch++) {
        const batches = epochBatches(train, o.batchSize, this.seed, epoch);
        for (let g = 0; g < batches.length; g += o.stepsPerCall) {
          const group = batches.slice(g, g + o.stepsPerCall);
          for (const part of stepParts(train, group, group, this.config.padTokenId, withTypes)) {
            const feeds = part.map((c) => c.feeds);
            for (const r of await step.runScheduled(state, feeds, o.lr, schedule)) {
              losses.push(r.loss);
              onStep?.({ step: r.step, totalSteps: total, epoch: epoch + 1, loss: r.loss, lr: r.lr });
            }
          }
        }
      }
    } finally {
      await step.release();
    }
    for (const [n, v] of state.params) this.values.set(n, v);
    const stale = this.classifier;
    this.classifier = undefined;
    if (stale) await (await stale).release();
    return { steps: state.step, losses };
  }

  /**
   * The classifier's directory as files (config.json with the labels, model.safetensors with Hugging Face
   * names, the tokenizer's files unchanged): BrowserClassifier.load takes them, and written to a directory
   * they load in Hugging Face transformers and `plmkit predict`. Weights are fp32 unless asked otherwise.
   */
  toModelFiles(
    opts: { readonly floatStorage?: 'F32' | 'F16' | 'BF16' } = {},
  ): ModelFiles & { readonly weights: Uint8Array } {
    const id2label = Object.fromEntries(this.labelNames.map((n, i) => [String(i), n]));
    let [b, values] = [this.builder, this.values as ReadonlyMap<string, Float32Array>];
    if (this.pet) {
      // LoRA folds into the base weights; the other methods change the graph, so they stay modules.
      if (this.pet.config.method !== 'lora')
        throw new Error(
          `a ${this.pet.config.method} module is not a plain classifier: use toPetFiles() (BrowserClassifier.load(base, { adapter }))`,
        );
      values = mergeLora(this.values, this.pet.config, this.config);
      b = new ModelBuilder({ training: false });
      sequenceClassifier(b, textInputs(b, this.config.modelType === 'bert'), this.config);
    }
    return {
      config: hfConfigFromModel(this.config, { id2label }),
      weights: serializeSafetensors(hfTensors(b, values), {
        metadata: { format: 'pt' },
        floatStorage: opts.floatStorage ?? 'F32',
      }),
      tokenizer: this.files.tokenizer,
      tokenizerConfig: this.files.tokenizerConfig,
    };
  }

  /**
   * The PET module's files with its head (PEFT's format for LoRA, plmkit's for the others), and BERT's
   * pooler when the base lacked one, as `plmkit finetune --pet` writes them: BrowserClassifier.load(base,
   * { adapter }) takes them, and written to a directory `plmkit predict --adapter` loads them.
   */
  toPetFiles(opts: { readonly baseModelNameOrPath?: string } = {}): PetModuleFiles {
    if (!this.pet) throw new Error('no PET module: this trainer fine-tunes the whole model (toModelFiles)');
    const { config, weights } = petFiles({
      config: this.pet.config,
      model: this.config,
      values: this.values,
      baseModelNameOrPath: opts.baseModelNameOrPath ?? '',
      pooler: this.initialised.some(isPoolerParam),
    });
    return { config, weights, id2label: Object.fromEntries(this.labelNames.map((n, i) => [String(i), n])) };
  }

  /** Accuracy and macro-F1 on labelled examples, with each example's predicted label index. */
  async evaluate(
    examples: readonly BrowserExample[],
    opts: { readonly batchSize?: number; readonly maxLength?: number } = {},
  ): Promise<ClassificationMetrics & { readonly predictions: number[] }> {
    const maxLength = opts.maxLength ?? 128;
    const gold = this.encode(examples, maxLength).map((e) => e.label);
    const executionProviders = this.executionProviders;
    this.classifier ??= this.pet
      ? BrowserClassifier.load(this.files, { adapter: this.toPetFiles(), executionProviders })
      : BrowserClassifier.load(this.toModelFiles(), { executionProviders });
    const preds = await (
      await this.classifier
    ).predict(
      examples.map((e) => (e.textPair === undefined ? e.text : { text: e.text, textPair: e.textPair })),
      { batchSize: opts.batchSize ?? 64, maxLength },
    );
    const predictions = preds.map((p) => p.labelId);
    return { ...classificationMetrics(gold, predictions), predictions };
  }

  async release(): Promise<void> {
    const c = this.classifier;
    this.classifier = undefined;
    if (c) await (await c).release();
  }
}

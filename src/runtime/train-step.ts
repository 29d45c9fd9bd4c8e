// A training step compiled as one ONNX graph: forward, loss, backward, global-norm clipping and the
// optimizer update. Parameters and optimizer state live in host typed arrays, are fed in and come back
// updated; the previous values are kept until the step is known to be finite, so a diverged step
// loses nothing.

import { grad } from '../graph/autodiff.js';
import type { TypedArray } from '../graph/dtype.js';
import { fail, type Graph, type Tensor } from '../graph/graph.js';
import { input, leafName } from '../graph/index.js';
import { ParamOp, scalar } from '../graph/ops/core.js';
import { add, div, maximum, mul, sqrt } from '../graph/ops/elementwise.js';
import { sum } from '../graph/ops/reduce.js';
import { CompiledFunction, FeedError } from './compiled.js';
import { allocate } from '../graph/dtype.js';
import { emitLoopModel, encodeModel, loopNames, neededNodes } from '../graph/emit.js';
import { DropoutOp } from '../graph/ops/nn-ops.js';
import { rowGradient } from './row-gradient.js';
import { learningRate, type ScheduleConfig } from './schedule.js';
import { needsDropoutFromUniform, type HostTensor, type SessionOptions } from './ort.js';
import {
  applyUpdate,
  slotNames,
  stepScalarInputs,
  stepScalarValues,
  type OptimizerConfig,
} from './optimizer.js';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly terms: Readonly<Record<string, number>>,
  ) {
    super(
      `non-finite ${'grad_norm' in terms && Number.isFinite(terms['loss']) ? 'gradient' : 'loss'} at step ${step}: ${Object.entries(
        terms,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}; parameters are left at their step-${step - 1} values`,
    );
  }
}

export interface TrainStepSpec {
  readonly graph: Graph;
  /** Scalar loss that the default gradients differentiate. */
  readonly loss: Tensor;
  /** Extra named scalars reported each step and named when a step diverges. */
  readonly terms?: Readonly<Record<string, Tensor>>;
  /** Parameters to update (Param leaves). Other parameters the loss needs must be in `frozen`. */
  readonly trainable: readonly Tensor[];
  readonly frozen?: ReadonlyMap<string, TypedArray>;
  /** Inputs fed per batch (Input leaves). */
  readonly batch: readonly Tensor[];
  readonly optimizer: OptimizerConfig;
  /** Clip gradients to this global L2 norm (as torch.nn.utils.clip_grad_norm_). */
  readonly clipNorm?: number;
  /** Final gradients aligned with `trainable`, for methods that combine several losses' gradients. */
  readonly grads?: readonly Tensor[];
  /** More graph outputs returned each step (per-layer gradient norms, cosine similarities, ...). */
  readonly extraOutputs?: Readonly<Record<string, Tensor>>;
  /** Update embedding tables from dense gradients instead of their looked-up rows (for comparisons). */
  readonly denseGradients?: boolean;
  readonly session?: SessionOptions;
}

export interface StepResult {
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly extras: Readonly<Record<string, HostTensor>>;
}

/** Host-side state of a training run: parameters, optimizer slots and the step counter. */
export interface TrainState {
  step: number;
  readonly params: Map<string, Float32Array>;
  readonly slots: Map<string, Float32Array>;
  /** Second buffers that each step writes into; swapped with the live ones when the step is finite. */
  readonly spare?: Map<string, Float32Array>;
}

const NEXT = 'next:';

export class TrainStep {
  private constructor(
    private readonly compileSingle: (seedSalt: number) => Promise<CompiledFunction>,
    readonly spec: TrainStepSpec,
    readonly paramNames: readonly string[],
    readonly shapes: ReadonlyMap<string, readonly number[]>,
    readonly slotKeys: readonly string[],
    /** The step graph's outputs (for cost analysis). */
    readonly outputs: Readonly<Record<string, Tensor>>,
    private readonly leaves: { readonly perStep: readonly Tensor[]; readonly carried: readonly Tensor[] },
  ) {}

  private loopFn: Promise<CompiledFunction> | undefined;

  static async create(spec: TrainStepSpec): Promise<TrainStep> {
    const g = spec.graph;
    if (spec.loss.rank !== 0) fail('TrainStep', 'loss must be a scalar', [spec.loss]);
    const names = spec.trainable.map((p) => {
      if (p.node.op !== ParamOp) fail('TrainStep', `trainable ${p.toString()} is not a parameter`);
      return leafName(p)!;
    });
    const grads = spec.grads ?? grad(spec.loss, spec.trainable);
    if (grads.length !== spec.trainable.length)
      fail('TrainStep', `${grads.length} gradients for ${names.length} parameters`);

    // Embedding tables' gradients as their rows (unless `denseGradients`): see row-gradient.ts.
    const rowGrads = spec.trainable.map((p, i) =>
      spec.denseGradients ? undefined : rowGradient(p, grads[i]!),
    );
    const sq = grads.map((gr, i) => {
      const r = rowGrads[i]?.rows ?? gr;
      return sum(mul(r, r));
    });
    const gradNorm = sqrt(sq.reduce((a, b) => add(a, b), scalar(g, 0)));
    // Clipping as torch.nn.utils.clip_grad_norm_: scale = min(1, max_norm / norm), applied by the update.
    const clipScale = spec.clipNorm ? div(spec.clipNorm, maximum(gradNorm, spec.clipNorm)) : undefined;
    const scalars = stepScalarInputs(g, spec.optimizer);
    const suffixes = slotNames(spec.optimizer);
    const slotInputs: Tensor[] = [];
    const outputs: Record<string, Tensor> = { loss: spec.loss, grad_norm: gradNorm };
    for (const [k, t] of Object.entries(spec.terms ?? {})) outputs[`term:${k}`] = t;
    for (const [k, t] of Object.entries(spec.extraOutputs ?? {})) outputs[`extra:${k}`] = t;
    spec.trainable.forEach((p, i) => {
      const slots = suffixes.map((s) => input(g, `${names[i]}:${s}`, 'float32', p.shape));
      slotInputs.push(...slots);
      const upd = applyUpdate(
        spec.optimizer,
        names[i]!,
        p,
        rowGrads[i] ?? grads[i]!,
        slots,
        scalars,
        clipScale,
      );
      outputs[NEXT + names[i]] = upd.param;
      upd.slots.forEach((t, j) => (outputs[`${NEXT}${names[i]}:${suffixes[j]}`] = t));
    });
    // Sessions are compiled on first use: a training loop that only runs fused steps never holds the
    // single-step session (ONNX Runtime keeps each session's memory arena).
    const compileSingle = (seedSalt: number) =>
      CompiledFunction.create({
        inputs: [...spec.batch, ...spec.trainable, ...slotInputs, ...Object.values(scalars)],
        outputs,
        ...(spec.frozen ? { frozen: spec.frozen } : {}),
        ...(spec.session ? { session: spec.session } : {}),
        name: 'train_step',
        seedSalt,
      });
    const shapes = new Map(spec.trainable.map((p, i) => [names[i]!, p.shape as number[]]));
    return new TrainStep(
      compileSingle,
      spec,
      names,
      shapes,
      slotInputs.map((t) => leafName(t)!),
      outputs,
      {
        perStep: [...spec.batch, ...Object.values(scalars)],
        carried: [...spec.trainable, ...slotInputs],
      },
    );
  }

  private singleFn: Promise<CompiledFunction> | undefined;

  private single(): Promise<CompiledFunction> {
    if (this.singleFn) return this.singleFn;
    const fn = (this.singleFn = this.compileSingle(this.seedSalt));
    forgetOnFailure(fn, () => this.singleFn === fn && (this.singleFn = undefined));
    return fn;
  }

  /** The single-step ONNX model (compiles it if needed). */
  async model(): Promise<Uint8Array> {
    return (await this.single()).model;
  }

  /** Fresh state from initial parameter values (optimizer slots at zero). */
  initState(initial: ReadonlyMap<string, Float32Array>): TrainState {
    const params = new Map<string, Float32Array>();
    for (const n of this.paramNames) {
      const v = initial.get(n);
      if (!v) throw new Error(`no initial value for trainable parameter "${n}"`);
      const size = this.shapes.get(n)!.reduce((a, b) => a * b, 1);
      if (v.length !== size)
        throw new Error(`parameter "${n}": ${v.length} values for shape [${this.shapes.get(n)!.join(', ')}]`);
      params.set(n, v.slice());
    }
    const slots = new Map(
      this.slotKeys.map((k) => [k, new Float32Array(params.get(k.slice(0, k.lastIndexOf(':')))!.length)]),
    );
    return { step: 0, params, slots };
  }

  /** Runs one step at learning rate `lr`; updates `state` in place only when the loss is finite. */
  async run(state: TrainState, batch: Readonly<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    const step = state.step + 1;
    for (const k of Object.keys(batch))
      if (state.params.has(k) || state.slots.has(k))
        throw new FeedError(
          `batch input "${k}" is a trained parameter or optimizer state, which the step feeds itself`,
        );
    const feeds: Record<string, HostTensor> = { ...batch };
    for (const [n, v] of state.params) feeds[n] = { dtype: 'float32', dims: this.shapes.get(n)!, data: v };
    for (const [k, v] of state.slots)
      feeds[k] = { dtype: 'float32', dims: this.shapes.get(k.slice(0, k.lastIndexOf(':')))!, data: v };
    for (const [k, v] of Object.entries(stepScalarValues(this.spec.optimizer, lr, step)))
      feeds[k] = { dtype: 'float32', dims: [], data: new Float32Array([v]) };
    // Updated parameters and slots are written into spare buffers, allocated once per state.
    const spare = state.spare ?? ((state as { spare?: Map<string, Float32Array> }).spare = new Map());
    const into: Record<string, HostTensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      if (!state.params.has(k) && !state.slots.has(k)) continue;
      let buf = spare.get(k);
      if (!buf || buf.length !== t.data.length) spare.set(k, (buf = new Float32Array(t.data.length)));
      into[NEXT + k] = { dtype: 'float32', dims: t.dims, data: buf };
    }
    const out = await (await this.single()).run(feeds, undefined, into);

    const loss = out['loss']!.data[0] as number;
    const terms: Record<string, number> = {};
    const extras: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) {
      if (k.startsWith('term:')) terms[k.slice(5)] = v.data[0] as number;
      else if (k.startsWith('extra:')) extras[k.slice(6)] = v;
    }
    const gradNorm = out['grad_norm']!.data[0] as number;
    if (!Number.isFinite(loss) || Object.values(terms).some((v) => !Number.isFinite(v)))
      throw new NonFiniteLossError(step, { loss, ...terms });
    // A finite loss can still have a NaN or infinite gradient (sqrt at 0, say), which the update would
    // write into every parameter.
    if (!Number.isFinite(gradNorm))
      throw new NonFiniteLossError(step, { loss, ...terms, grad_norm: gradNorm });
    // Swap live and spare buffers: the old values become next step's output buffers.
    for (const [k, live] of [...state.params, ...state.slots]) {
      const updated = spare.get(k)!;
      (state.params.has(k) ? state.params : state.slots).set(k, updated);
      spare.set(k, live);
    }
    state.step = step;
    return { step, loss, gradNorm, terms, extras };
  }

  /** The multi-step function: the same step inside an ONNX Loop over stacked batches, compiled on first use. */
  private loop(): Promise<CompiledFunction> {
    this.loopFn ??= (async () => {
      const carriedNext = this.leaves.carried.map((t) => this.outputs[NEXT + leafName(t)!]!);
      const scan = Object.fromEntries(Object.entries(this.outputs).filter(([k]) => !k.startsWith(NEXT)));
      const model = encodeModel(
        emitLoopModel({
          carried: this.leaves.carried,
          carriedNext,
          perStep: this.leaves.perStep,
          scan,
          ...(this.spec.frozen ? { frozen: this.spec.frozen } : {}),
          name: 'train_steps',
          seedSalt: this.seedSalt,
          dropoutFromUniform: needsDropoutFromUniform(this.spec.session),
        }),
      );
      const inputs = [
        ...this.leaves.perStep.map((t) => ({
          name: loopNames.stacked(leafName(t)!),
          dtype: t.dtype,
          shape: ['steps', ...t.shape],
        })),
        ...this.leaves.carried.map((t) => ({
          name: loopNames.initial(leafName(t)!),
          dtype: t.dtype,
          shape: t.shape,
        })),
      ];
      return CompiledFunction.fromModel(
        model,
        inputs,
        [],
        { label: 'train_steps', ...this.spec.session },
        this.spec.graph,
      );
    })();
    const fn = this.loopFn;
    forgetOnFailure(fn, () => this.loopFn === fn && (this.loopFn = undefined));
    return fn;
  }

  /**
   * Runs one step per batch inside a single ONNX Runtime call (parameters and optimizer state cross the
   * JavaScript boundary once, not once per step). Batches must share their shapes. If any step's loss
   * is not finite, the batches are replayed one at a time from the unchanged state, so the error names
   * the exact step and the parameters stay at the last good step.
   */
  async runMany(
    state: TrainState,
    batches: readonly Readonly<Record<string, HostTensor>>[],
    lrs: readonly number[],
  ): Promise<StepResult[]> {
    if (batches.length !== lrs.length)
      throw new Error(`${batches.length} batches but ${lrs.length} learning rates`);
    if (batches.length === 0) return [];
    const k = batches.length;
    const feeds: Record<string, HostTensor> = {};
    for (const [name, first] of Object.entries(batches[0]!)) {
      const size = first.data.length;
      const stacked = allocate(first.dtype, size * k);
      batches.forEach((b, i) => {
        const t = b[name];
        if (
          !t ||
          t.dtype !== first.dtype ||
          t.dims.length !== first.dims.length ||
          t.dims.some((d, j) => d !== first.dims[j])
        )
          throw new FeedError(
            `batch ${i}: input "${name}" must match batch 0 (${first.dtype}[${first.dims.join(', ')}]) to run in one call`,
          );
        (stacked as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(
          t.data as ArrayLike<unknown>,
          i * size,
        );
      });
      feeds[loopNames.stacked(name)] = { dtype: first.dtype, dims: [k, ...first.dims], data: stacked };
    }
    const scalarValues = lrs.map((lr, i) => stepScalarValues(this.spec.optimizer, lr, state.step + i + 1));
    for (const key of Object.keys(scalarValues[0]!))
      feeds[loopNames.stacked(key)] = {
        dtype: 'float32',
        dims: [k],
        data: Float32Array.from(scalarValues, (v) => v[key]!),
      };
    const spare = state.spare ?? ((state as { spare?: Map<string, Float32Array> }).spare = new Map());
    const into: Record<string, HostTensor> = {};
    for (const [key, live] of [...state.params, ...state.slots]) {
      const dims = this.shapes.get(state.params.has(key) ? key : key.slice(0, key.lastIndexOf(':')))!;
      feeds[loopNames.initial(key)] = { dtype: 'float32', dims, data: live };
      let buf = spare.get(key);
      if (!buf || buf.length !== live.length) spare.set(key, (buf = new Float32Array(live.length)));
      into[loopNames.final(key)] = { dtype: 'float32', dims, data: buf };
    }
    const out = await (await this.loop()).run(feeds, undefined, into);
    const losses = out[loopNames.scanned('loss')]!.data as Float32Array;
    const norms = out[loopNames.scanned('grad_norm')]!.data as Float32Array;
    const termNames = Object.keys(this.outputs).filter((n) => n.startsWith('term:'));
    const finite =
      losses.every(Number.isFinite) &&
      norms.every(Number.isFinite) &&
      termNames.every((n) => (out[loopNames.scanned(n)]!.data as Float32Array).every(Number.isFinite));
    if (!finite) {
      // Replay step by step: the single-step path stops at the first bad step with nothing lost.
      const results: StepResult[] = [];
      for (let i = 0; i < k; i++) results.push(await this.run(state, batches[i]!, lrs[i]!));
      return results;
    }
    for (const [key, live] of [...state.params, ...state.slots]) {
      (state.params.has(key) ? state.params : state.slots).set(key, spare.get(key)!);
      spare.set(key, live);
    }
    const first = state.step;
    state.step += k;
    return Array.from({ length: k }, (_, i) => {
      const terms: Record<string, number> = {};
      for (const n of termNames) terms[n.slice(5)] = (out[loopNames.scanned(n)]!.data as Float32Array)[i]!;
      const extras: Record<string, HostTensor> = {};
      for (const n of Object.keys(this.outputs).filter((o) => o.startsWith('extra:'))) {
        const all = out[loopNames.scanned(n)]!;
        const size = all.data.length / k;
        extras[n.slice(6)] = {
          dtype: all.dtype,
          dims: all.dims.slice(1),
          data: all.data.slice(i * size, (i + 1) * size),
        };
      }
      return { step: first + i + 1, loss: losses[i]!, gradNorm: norms[i]!, terms, extras };
    });
  }

  /** runMany at the learning rates `schedule` gives the state's next steps (peak `peakLr`). */
  async runScheduled(
    state: TrainState,
    batches: readonly Readonly<Record<string, HostTensor>>[],
    peakLr: number,
    schedule: ScheduleConfig,
  ): Promise<(StepResult & { readonly lr: number })[]> {
    const lrs = batches.map((_, i) => learningRate(peakLr, state.step + i, schedule));
    const results = await this.runMany(state, batches, lrs);
    return results.map((r, i) => ({ ...r, lr: lrs[i]! }));
  }

  async release(): Promise<void> {
    const fns = [this.singleFn, this.loopFn];
    this.singleFn = this.loopFn = undefined;
    // A session that failed to compile has nothing to free; its error was thrown where it was used.
    for (const fn of fns)
      await fn?.then(
        (f) => f.release(),
        () => undefined,
      );
  }

  private seedSalt = 0;
  private random: boolean | undefined;

  /**
   * Moves dropout to fresh seeds derived from `salt` (sessions are recompiled on next use). ONNX Runtime's
   * dropout generators advance with every run of a session and cannot be restored, so trainers reseed
   * at every checkpoint with the checkpoint's step: a run resumed from that checkpoint, in a fresh
   * process, then draws exactly the masks the uninterrupted run drew.
   */
  async reseed(salt: number): Promise<void> {
    // A graph without random ops computes the same under any salt: keep its sessions.
    this.random ??= neededNodes(Object.values(this.outputs)).some((n) => n.op === DropoutOp);
    if (salt === this.seedSalt || !this.random) return;
    await this.release();
    this.seedSalt = salt;
  }
}

/** A compile that failed is not kept: the next use tries again, and release() has nothing to free. */
function forgetOnFailure(fn: Promise<CompiledFunction>, forget: () => unknown): void {
  fn.catch(forget);
}

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
import { CompiledFunction } from './compiled.js';
import type { HostTensor, SessionOptions } from './ort.js';
import { applyUpdate, slotNames, stepScalarInputs, stepScalarValues, type OptimizerConfig } from './optimizer.js';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly terms: Readonly<Record<string, number>>,
  ) {
    super(
      `non-finite loss at step ${step}: ${Object.entries(terms)
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
    private readonly fn: CompiledFunction,
    readonly spec: TrainStepSpec,
    readonly paramNames: readonly string[],
    readonly shapes: ReadonlyMap<string, readonly number[]>,
    readonly slotKeys: readonly string[],
    /** The step graph's outputs (for cost analysis). */
    readonly outputs: Readonly<Record<string, Tensor>>,
  ) {}

  static async create(spec: TrainStepSpec): Promise<TrainStep> {
    const g = spec.graph;
    if (spec.loss.rank !== 0) fail('TrainStep', 'loss must be a scalar', [spec.loss]);
    const names = spec.trainable.map((p) => {
      if (p.node.op !== ParamOp) fail('TrainStep', `trainable ${p.toString()} is not a parameter`);
      return leafName(p)!;
    });
    const grads = spec.grads ?? grad(spec.loss, spec.trainable);
    if (grads.length !== spec.trainable.length) fail('TrainStep', `${grads.length} gradients for ${names.length} parameters`);

    const sq = grads.map((gr) => sum(mul(gr, gr)));
    const gradNorm = sqrt(sq.reduce((a, b) => add(a, b), scalar(g, 0)));
    const clipped = spec.clipNorm
      ? grads.map((gr) => mul(gr, div(spec.clipNorm!, maximum(gradNorm, spec.clipNorm!))))
      : grads;

    const scalars = stepScalarInputs(g, spec.optimizer);
    const suffixes = slotNames(spec.optimizer);
    const slotInputs: Tensor[] = [];
    const outputs: Record<string, Tensor> = { loss: spec.loss, grad_norm: gradNorm };
    for (const [k, t] of Object.entries(spec.terms ?? {})) outputs[`term:${k}`] = t;
    for (const [k, t] of Object.entries(spec.extraOutputs ?? {})) outputs[`extra:${k}`] = t;
    spec.trainable.forEach((p, i) => {
      const slots = suffixes.map((s) => input(g, `${names[i]}:${s}`, 'float32', p.shape));
      slotInputs.push(...slots);
      const upd = applyUpdate(spec.optimizer, names[i]!, p, clipped[i]!, slots, scalars);
      outputs[NEXT + names[i]] = upd.param;
      upd.slots.forEach((t, j) => (outputs[`${NEXT}${names[i]}:${suffixes[j]}`] = t));
    });
    const fn = await CompiledFunction.create({
      inputs: [...spec.batch, ...spec.trainable, ...slotInputs, ...Object.values(scalars)],
      outputs,
      ...(spec.frozen ? { frozen: spec.frozen } : {}),
      ...(spec.session ? { session: spec.session } : {}),
      name: 'train_step',
    });
    const shapes = new Map(spec.trainable.map((p, i) => [names[i]!, p.shape as number[]]));
    return new TrainStep(fn, spec, names, shapes, slotInputs.map((t) => leafName(t)!), outputs);
  }

  get model(): Uint8Array {
    return this.fn.model;
  }

  /** Fresh state from initial parameter values (optimizer slots at zero). */
  initState(initial: ReadonlyMap<string, Float32Array>): TrainState {
    const params = new Map<string, Float32Array>();
    for (const n of this.paramNames) {
      const v = initial.get(n);
      if (!v) throw new Error(`no initial value for trainable parameter "${n}"`);
      const size = this.shapes.get(n)!.reduce((a, b) => a * b, 1);
      if (v.length !== size) throw new Error(`parameter "${n}": ${v.length} values for shape [${this.shapes.get(n)!.join(', ')}]`);
      params.set(n, v.slice());
    }
    const slots = new Map(this.slotKeys.map((k) => [k, new Float32Array(params.get(k.slice(0, k.lastIndexOf(':')))!.length)]));
    return { step: 0, params, slots };
  }

  /** Runs one step at learning rate `lr`; updates `state` in place only when the loss is finite. */
  async run(state: TrainState, batch: Readonly<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    const step = state.step + 1;
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
    const out = await this.fn.run(feeds, undefined, into);

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
    // Swap live and spare buffers: the old values become next step's output buffers.
    for (const [k, live] of [...state.params, ...state.slots]) {
      const updated = spare.get(k)!;
      (state.params.has(k) ? state.params : state.slots).set(k, updated);
      spare.set(k, live);
    }
    state.step = step;
    return { step, loss, gradNorm, terms, extras };
  }

  async release(): Promise<void> {
    await this.fn.release();
  }
}

// ONNX emission: the nodes a set of outputs needs, in creation order, with deterministic names.
// Fed leaves become graph inputs; frozen parameters become initializers.

import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
import { allocate, ONNX_DTYPE, type DType, type TypedArray } from './dtype.js';
import { f32ToF16Bits } from '../io/safetensors-format.js';
import { fail, type LowerContext, type Node, type OnnxAttr, type Tensor } from './graph.js';
import { InputOp, ParamOp } from './ops/core.js';
import { deriveSeed } from '../runtime/random.js';

export const OPSET = 20;

export interface EmitSpec {
  /** Leaves (Input or Param tensors) fed at run time, in order. */
  readonly inputs: readonly Tensor[];
  /** Output name to tensor. */
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Values of parameters that are compiled into the graph as initializers. */
  readonly frozen?: ReadonlyMap<string, TypedArray>;
  readonly name?: string;
  /**
   * Mixed into every random op's seed. ONNX Runtime's generators advance with each run of a session, so
   * a training run that resumes in a fresh session replays the original masks only if the original
   * also moved to fresh, salted seeds at that point (see TrainStep.reseed).
   */
  readonly seedSalt?: number;
  /**
   * Writes Dropout as a RandomUniformLike mask and products instead of ONNX's Dropout op, for builds of
   * ONNX Runtime with no training-mode Dropout kernel (onnxruntime-web's WebGPU build). Same seeds, other
   * masks: the two generators differ.
   */
  readonly dropoutFromUniform?: boolean;
}

export function leafName(t: Tensor): string | undefined {
  return t.node.op === InputOp || t.node.op === ParamOp ? (t.node.attrs as { name: string }).name : undefined;
}

function typedBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(
  name: string,
  dtype: DType,
  dims: readonly number[],
  data: ArrayLike<number> | TypedArray,
): OnnxTypes.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size)
    fail('emit', `tensor "${name}" has ${data.length} values, its shape [${dims.join(', ')}] needs ${size}`);
  let raw: Uint8Array;
  // A typed array of the dtype's own storage class is copied as bytes; anything else is converted by value
  // (a Float64Array for a float32 tensor, numbers for float16).
  if (ArrayBuffer.isView(data) && data.constructor === allocate(dtype, 0).constructor) {
    raw = typedBytes(data as TypedArray);
  } else {
    const arr = Array.from(data as ArrayLike<number>, Number);
    switch (dtype) {
      case 'float32':
        raw = typedBytes(Float32Array.from(arr));
        break;
      case 'float64':
        raw = typedBytes(Float64Array.from(arr));
        break;
      case 'int64':
        raw = typedBytes(BigInt64Array.from(arr.map((v) => BigInt(v))));
        break;
      case 'int32':
        raw = typedBytes(Int32Array.from(arr));
        break;
      case 'bool':
        raw = Uint8Array.from(arr.map((v) => (v ? 1 : 0)));
        break;
      case 'float16':
        raw = typedBytes(Uint16Array.from(arr, f32ToF16Bits));
        break;
    }
  }
  return { name, dataType: ONNX_DTYPE[dtype], dims: [...dims], rawData: raw };
}

function valueInfo(name: string, t: Tensor): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attrProto(name: string, a: OnnxAttr): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto('', a.dtype, a.dims, a.data) };
  }
}

/** Nodes needed by the outputs, in creation (topological) order. */
export function neededNodes(outputs: readonly Tensor[]): Node[] {
  const seen = new Set<Node>();
  const stack = outputs.map((t) => t.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) stack.push(t.node);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Options for graphs nested in a Loop body. */
interface GraphOptions {
  /** Inputs declared before the fed leaves (a Loop body's iteration number and condition). */
  readonly leadingInputs?: readonly OnnxTypes.IValueInfoProto[];
  /** Outputs before the requested ones, given as [output name, existing value name] (a Loop's condition). */
  readonly leadingOutputs?: readonly [string, string][];
  /** Leaves that the enclosing graph defines under the same name (frozen weights). */
  readonly outer?: ReadonlySet<string>;
  /** Receives the `outer` leaves the graph uses, in node order. */
  readonly outerUsed?: string[];
  /** Leaves computed as Gather(stacked, iteration) from the enclosing graph's per-step inputs. */
  readonly perStep?: ReadonlyMap<string, { readonly stacked: string; readonly iteration: string }>;
  /** Prefix of constant names, so that nested graphs do not shadow the enclosing graph's names. */
  readonly constPrefix?: string;
}

function emitGraph(spec: EmitSpec, opts: GraphOptions = {}): OnnxTypes.IGraphProto {
  const outputEntries = Object.entries(spec.outputs);
  if (outputEntries.length === 0) fail('emit', 'no outputs requested');
  const nodes = neededNodes(outputEntries.map(([, t]) => t));
  const fed = new Map<string, Tensor>();
  for (const t of spec.inputs) {
    const name = leafName(t);
    if (!name) fail('emit', `graph input ${t.toString()} is not an Input or Param leaf`);
    fed.set(name, t);
  }

  const onnxNodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const constCache = new Map<string, string>();
  const prefix = opts.constPrefix ?? '';
  let counter = 0;

  // Names the caller chose (inputs, parameters, outputs, the enclosing graph's): a generated name that
  // equals one (a user input called "c0" or "v12") gets a suffix, so that no value is silently confused.
  const taken = new Set<string>([
    ...outputEntries.map(([n]) => n),
    ...nodes.map((n) => (n.op === InputOp || n.op === ParamOp ? leafName(n.outputs[0]!)! : '')),
    ...(opts.outer ?? []),
    ...(opts.leadingInputs ?? []).map((v) => v.name ?? ''),
    ...(opts.leadingOutputs ?? []).map(([n]) => n),
  ]);
  const unique = (candidate: string): string => {
    let n = candidate;
    while (taken.has(n)) n += "'";
    return n;
  };
  const generated = new Map<Tensor, string>();

  // The first output name asked for a tensor becomes that tensor's ONNX name, so no copy is needed.
  const outName = new Map<Tensor, string>();
  const extraOutputs: [string, Tensor][] = [];
  for (const [name, t] of outputEntries) {
    if (!outName.has(t) && !leafName(t)) outName.set(t, name);
    else extraOutputs.push([name, t]);
  }

  const name = (t: Tensor): string => {
    const leaf = leafName(t);
    if (leaf) return leaf;
    const out = outName.get(t);
    if (out !== undefined) return out;
    let n = generated.get(t);
    if (n === undefined) {
      n = unique(
        t.node.outputs.length === 1 ? `${prefix}v${t.node.id}` : `${prefix}v${t.node.id}_${t.index}`,
      );
      generated.set(t, n);
    }
    return n;
  };
  let currentNode = 0;
  let subIndex = 0;
  const ctx: LowerContext = {
    name,
    outputName: (node, i) => name(node.outputs[i]!),
    fresh: (hint) => unique(`${prefix}${hint}_${currentNode}_${counter++}`),
    emit: (opType, inputs, outputs, attrs) => {
      onnxNodes.push({
        name: `${prefix}n${currentNode}_${subIndex++}`,
        opType,
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(attrs ?? {}).map(([k, v]) => attrProto(k, v)),
      });
    },
    constInt64: (values, isScalar = false) => constant('int64', isScalar ? [] : [values.length], values),
    constScalar: (value, dtype) => constant(dtype, [], [value]),
    constVector: (values, dtype) => constant(dtype, [values.length], values),
    constBool: (value) => constant('bool', [], [value ? 1 : 0]),
    seed: (base) => (spec.seedSalt ? deriveSeed(base, `salt${spec.seedSalt}`) & 0x7fffffff : base),
    dropoutFromUniform: spec.dropoutFromUniform ?? false,
  };
  function constant(dtype: DType, dims: number[], values: readonly number[]): string {
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    let n = constCache.get(key);
    if (!n) {
      n = unique(`${prefix}c${constCache.size}`);
      initializers.push(tensorProto(n, dtype, dims, values));
      constCache.set(key, n);
    }
    return n;
  }

  for (const node of nodes) {
    currentNode = node.id;
    subIndex = 0;
    if (node.op === InputOp || node.op === ParamOp) {
      const t = node.outputs[0]!;
      const leaf = leafName(t)!;
      if (fed.get(leaf) === t) continue;
      if (opts.outer?.has(leaf)) {
        opts.outerUsed?.push(leaf);
        continue;
      }
      const step = opts.perStep?.get(leaf);
      if (step) {
        ctx.emit('Gather', [step.stacked, step.iteration], [leaf], { axis: { kind: 'int', value: 0 } });
        continue;
      }
      const value = spec.frozen?.get(leaf);
      if (node.op === ParamOp && value) {
        initializers.push(tensorProto(leaf, t.dtype, t.shape as number[], value));
        continue;
      }
      fail(
        'emit',
        `${node.op === ParamOp ? 'parameter' : 'input'} "${leaf}" is needed but neither fed nor frozen`,
      );
    }
    node.op.lower(node, ctx);
  }
  for (const [n, t] of extraOutputs) {
    currentNode = t.node.id;
    ctx.emit('Identity', [name(t)], [n]);
  }
  const leadingOutputs = (opts.leadingOutputs ?? []).map(([out, from]) => {
    ctx.emit('Identity', [from], [out]);
    return { name: out, type: { tensorType: { elemType: ONNX_DTYPE.bool, shape: { dim: [] } } } };
  });

  return {
    name: spec.name ?? 'plmkit',
    node: onnxNodes,
    initializer: initializers,
    input: [...(opts.leadingInputs ?? []), ...spec.inputs.map((t) => valueInfo(leafName(t)!, t))],
    output: [...leadingOutputs, ...outputEntries.map(([n, t]) => valueInfo(n, t))],
  };
}

function wrapModel(graph: OnnxTypes.IGraphProto): OnnxTypes.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 9, // the IR version of opset 20 (ONNX 1.15)
    producerName: 'plmkit',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
}

export function emitModel(spec: EmitSpec): OnnxTypes.ModelProto {
  return wrapModel(emitGraph(spec));
}

export interface LoopSpec {
  /** Leaves carried from one iteration to the next (parameters, optimizer state). */
  readonly carried: readonly Tensor[];
  /** Each carried leaf's value after one iteration, aligned with `carried`. */
  readonly carriedNext: readonly Tensor[];
  /** Leaves fed once per iteration: the model takes them stacked along a new leading "steps" axis. */
  readonly perStep: readonly Tensor[];
  /** Per-iteration results, returned stacked along "steps". */
  readonly scan: Readonly<Record<string, Tensor>>;
  readonly frozen?: ReadonlyMap<string, TypedArray>;
  readonly name?: string;
  readonly seedSalt?: number;
  readonly dropoutFromUniform?: boolean;
}

const LOOP_PLUMBING = new Set([
  'iteration',
  'cond_in',
  'cond_out',
  'loop_true',
  'loop_zero',
  'loop_one',
  'steps_shape',
  'steps_vec',
  'steps_count',
]);

/** Name of the stacked input for a per-step leaf, and of a carried leaf's initial and final values. */
export const loopNames = {
  stacked: (leaf: string) => `${leaf}@steps`,
  initial: (leaf: string) => `${leaf}@initial`,
  final: (leaf: string) => `${leaf}@final`,
  scanned: (output: string) => `${output}@all`,
};

/**
 * Several iterations of a function in one ONNX Loop, so that carried state (a training run's
 * parameters and optimizer slots) crosses into and out of ONNX Runtime once per call, not once per step.
 */
export function emitLoopModel(spec: LoopSpec): OnnxTypes.ModelProto {
  if (spec.carried.length !== spec.carriedNext.length)
    fail('emitLoop', 'carried and carriedNext differ in length');
  if (spec.perStep.length === 0)
    fail('emitLoop', 'needs at least one per-step input (it sets the step count)');
  const names = (ts: readonly Tensor[]) =>
    ts.map((t) => leafName(t) ?? fail('emitLoop', `${t.toString()} is not an Input or Param leaf`));
  const carried = names(spec.carried);
  const perStep = names(spec.perStep);
  const frozenNames = new Set(spec.frozen?.keys() ?? []);
  // The Loop's own plumbing has fixed names; a leaf or output called the same would be confused with it.
  for (const n of [...carried, ...perStep, ...frozenNames, ...Object.keys(spec.scan)])
    if (LOOP_PLUMBING.has(n) || n.includes('@'))
      fail(
        'emitLoop',
        `"${n}" is a name the Loop uses itself (${[...LOOP_PLUMBING].join(', ')}, or containing "@")`,
      );
  const bodyOutputs: Record<string, Tensor> = {};
  spec.carriedNext.forEach((t, i) => (bodyOutputs[`${carried[i]}@next`] = t));
  for (const [k, t] of Object.entries(spec.scan)) bodyOutputs[k] = t;
  const scalar = (n: string, dtype: DType): OnnxTypes.IValueInfoProto => ({
    name: n,
    type: { tensorType: { elemType: ONNX_DTYPE[dtype], shape: { dim: [] } } },
  });
  const frozenUsed: string[] = [];
  const body = emitGraph(
    {
      inputs: spec.carried,
      outputs: bodyOutputs,
      name: 'step',
      ...(spec.seedSalt ? { seedSalt: spec.seedSalt } : {}),
      ...(spec.dropoutFromUniform ? { dropoutFromUniform: true } : {}),
    },
    {
      leadingInputs: [scalar('iteration', 'int64'), scalar('cond_in', 'bool')],
      leadingOutputs: [['cond_out', 'cond_in']],
      outer: frozenNames,
      outerUsed: frozenUsed,
      perStep: new Map(perStep.map((n) => [n, { stacked: loopNames.stacked(n), iteration: 'iteration' }])),
      constPrefix: 'b_',
    },
  );
  const stackedInfo = spec.perStep.map((t, i) => {
    const v = valueInfo(loopNames.stacked(perStep[i]!), t);
    v.type!.tensorType!.shape!.dim!.unshift({ dimParam: 'steps' });
    return v;
  });
  const scanInfo = Object.entries(spec.scan).map(([k, t]) => {
    const v = valueInfo(loopNames.scanned(k), t);
    v.type!.tensorType!.shape!.dim!.unshift({ dimParam: 'steps' });
    return v;
  });
  // As in emitModel: frozen values the step uses, in node order (the map's order and its unused
  // entries change nothing).
  const graph = [...spec.carriedNext, ...Object.values(spec.scan)][0]!.graph;
  const initializers = frozenUsed.map((k) => {
    const t = graph.byName(k)!;
    return tensorProto(k, t.dtype, t.shape as number[], spec.frozen!.get(k)!);
  });
  initializers.push(tensorProto('loop_true', 'bool', [], [1]));
  initializers.push(tensorProto('loop_zero', 'int64', [1], [0]));
  initializers.push(tensorProto('loop_one', 'int64', [1], [1]));
  const first = loopNames.stacked(perStep[0]!);
  const outerNodes: OnnxTypes.INodeProto[] = [
    { name: 'steps_shape', opType: 'Shape', input: [first], output: ['steps_shape'] },
    {
      name: 'steps_slice',
      opType: 'Slice',
      input: ['steps_shape', 'loop_zero', 'loop_one'],
      output: ['steps_vec'],
    },
    { name: 'steps_count', opType: 'Squeeze', input: ['steps_vec', 'loop_zero'], output: ['steps_count'] },
    {
      name: 'loop',
      opType: 'Loop',
      input: ['steps_count', 'loop_true', ...carried.map(loopNames.initial)],
      output: [...carried.map(loopNames.final), ...Object.keys(spec.scan).map(loopNames.scanned)],
      attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }],
    },
  ];
  return wrapModel({
    name: spec.name ?? 'plmkit_loop',
    node: outerNodes,
    initializer: initializers,
    input: [...stackedInfo, ...spec.carried.map((t, i) => valueInfo(loopNames.initial(carried[i]!), t))],
    output: [...spec.carried.map((t, i) => valueInfo(loopNames.final(carried[i]!), t)), ...scanInfo],
  });
}

export function encodeModel(model: OnnxTypes.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

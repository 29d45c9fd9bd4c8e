// ONNX emission: the nodes a set of outputs needs, in creation order, with deterministic names.
// Fed leaves become graph inputs; frozen parameters become initializers.

import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
import { ONNX_DTYPE, type DType, type TypedArray } from './dtype.js';
import { fail, type LowerContext, type Node, type OnnxAttr, type Tensor } from './graph.js';
import { InputOp, ParamOp } from './ops/core.js';

export const OPSET = 18;

export interface EmitSpec {
  /** Leaves (Input or Param tensors) fed at run time, in order. */
  readonly inputs: readonly Tensor[];
  /** Output name to tensor. */
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Values of parameters that are compiled into the graph as initializers. */
  readonly frozen?: ReadonlyMap<string, TypedArray>;
  readonly name?: string;
}

export function leafName(t: Tensor): string | undefined {
  return t.node.op === InputOp || t.node.op === ParamOp ? (t.node.attrs as { name: string }).name : undefined;
}

function typedBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: DType, dims: readonly number[], data: ArrayLike<number> | TypedArray): OnnxTypes.ITensorProto {
  let raw: Uint8Array;
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    raw = typedBytes(data as TypedArray);
  } else {
    const arr = Array.from(data as ArrayLike<number>);
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
        fail('emit', 'float16 constants must be given as raw Uint16Array bits');
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

export function emitModel(spec: EmitSpec): OnnxTypes.ModelProto {
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
  let counter = 0;

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
    return outName.get(t) ?? (t.node.outputs.length === 1 ? `v${t.node.id}` : `v${t.node.id}_${t.index}`);
  };
  let currentNode = 0;
  let subIndex = 0;
  const ctx: LowerContext = {
    name,
    outputName: (node, i) => name(node.outputs[i]!),
    fresh: (hint) => `${hint}_${currentNode}_${counter++}`,
    emit: (opType, inputs, outputs, attrs) => {
      onnxNodes.push({
        name: `n${currentNode}_${subIndex++}`,
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
  };
  function constant(dtype: DType, dims: number[], values: readonly number[]): string {
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    let n = constCache.get(key);
    if (!n) {
      n = `c${constCache.size}`;
      initializers.push(tensorProto(n, dtype, dims, values));
      constCache.set(key, n);
    }
    return n;
  }

  const graphInputs: OnnxTypes.IValueInfoProto[] = [];
  for (const node of nodes) {
    currentNode = node.id;
    subIndex = 0;
    if (node.op === InputOp || node.op === ParamOp) {
      const t = node.outputs[0]!;
      const leaf = leafName(t)!;
      if (fed.get(leaf) === t) continue;
      const value = spec.frozen?.get(leaf);
      if (node.op === ParamOp && value) {
        initializers.push(tensorProto(leaf, t.dtype, t.shape as number[], value));
        continue;
      }
      fail('emit', `${node.op === ParamOp ? 'parameter' : 'input'} "${leaf}" is needed but neither fed nor frozen`);
    }
    node.op.lower(node, ctx);
  }
  for (const t of spec.inputs) graphInputs.push(valueInfo(leafName(t)!, t));
  for (const [n, t] of extraOutputs) {
    currentNode = t.node.id;
    ctx.emit('Identity', [name(t)], [n]);
  }

  const graph: OnnxTypes.IGraphProto = {
    name: spec.name ?? 'plmkit',
    node: onnxNodes,
    initializer: initializers,
    input: graphInputs,
    output: outputEntries.map(([n, t]) => valueInfo(n, t)),
  };
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'plmkit',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
}

export function encodeModel(model: OnnxTypes.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

// The symbolic graph: tensors are outputs of nodes; each node applies one registered primitive.
// Graph construction infers dtypes and shapes eagerly, so a mistake surfaces where the model code
// made it, before any ONNX exists.

import type { DType } from './dtype.js';
import { formatShape, type Shape } from './shape.js';

export type Attrs = Readonly<Record<string, unknown>>;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What an op's lowering may do: name values and append ONNX nodes and initializers. */
export interface LowerContext {
  name(t: Tensor): string;
  outputName(node: Node, index: number): string;
  fresh(hint: string): string;
  emit(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs?: Readonly<Record<string, OnnxAttr>>,
  ): void;
  /** A deduplicated int64 initializer (axes, shapes, pads). */
  constInt64(values: readonly number[], scalar?: boolean): string;
  constScalar(value: number, dtype: DType): string;
  constVector(values: readonly number[], dtype: DType): string;
  constBool(value: boolean): string;
  /** A random op's seed attribute: `base` mixed with the emission's seed salt (unchanged without one). */
  seed(base: number): number;
  /** Whether Dropout is written with its mask drawn by RandomUniformLike (EmitSpec.dropoutFromUniform). */
  readonly dropoutFromUniform: boolean;
}

export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; dtype: DType; dims: readonly number[]; data: ArrayLike<number> };

export interface OpDef<A extends Attrs = Attrs> {
  readonly name: string;
  /** Output types from input types; throws GraphError through `fail` on bad shapes or dtypes. */
  infer(inputs: readonly Tensor[], attrs: A): TensorType[];
  /**
   * Vector-Jacobian product: cotangents of the outputs (null where zero) to cotangents of the inputs
   * (null where zero or not differentiable). Cotangents may have the broadcast output shape; the engine
   * sums them back to each input's shape. Absent: the op has no gradient (integer or boolean results).
   */
  vjp?(node: Node<A>, cotangents: readonly (Tensor | null)[]): (Tensor | null)[];
  lower(node: Node<A>, ctx: LowerContext): void;
}

export class Node<A extends Attrs = Attrs> {
  readonly outputs: Tensor[] = [];
  constructor(
    readonly id: number,
    readonly graph: Graph,
    readonly op: OpDef<A>,
    readonly inputs: readonly Tensor[],
    readonly attrs: A,
  ) {}
}

export class Tensor implements TensorType {
  constructor(
    readonly node: Node,
    readonly index: number,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}
  get graph(): Graph {
    return this.node.graph;
  }
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `${this.node.op.name}#${this.node.id}:${this.dtype}${formatShape(this.shape)}`;
  }
}

export class GraphError extends Error {
  override name = 'GraphError';
}

/**
 * First stack frame outside the engine (src/graph, and src/runtime, which compiles graphs) that is a
 * file: the model code that built the failing op. Frames of built-ins (`Array.forEach (<anonymous>)`) and
 * of Node's internals are passed over; anonymous frames (`at file:///m.mjs:5:3`) count.
 */
function callerFrame(): string {
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    // "at fn (LOCATION)" or "at LOCATION"; a LOCATION of code ends in :line:column (and may hold
    // parentheses itself, as in "Program Files (x86)").
    const frame = line.trim().replace(/^at (async )?/, '');
    const open = frame.indexOf(' (');
    const location = frame.endsWith(')') && open >= 0 ? frame.slice(open + 2, -1) : frame;
    if (!/:\d+:\d+$/.test(location) || location.startsWith('node:')) continue;
    if (/[\\/]src[\\/](graph|runtime)[\\/]/.test(location)) continue;
    return line.trim().replace(/^at /, '');
  }
  return 'unknown caller';
}

/** Raises a build-time error naming the op, the input types and the calling code. */
export function fail(op: string, message: string, inputs: readonly TensorType[] = []): never {
  const types = inputs.map((t) => `${t.dtype}${formatShape(t.shape)}`).join(', ');
  throw new GraphError(
    `${op}: ${message}${types ? ` (inputs: ${types})` : ''}; called from ${callerFrame()}`,
  );
}

export class Graph {
  readonly nodes: Node[] = [];
  private readonly names = new Map<string, Tensor>();

  apply<A extends Attrs>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    for (const t of inputs) {
      if (t.graph !== this) fail(op.name, 'inputs come from different graphs', inputs);
    }
    const types = op.infer(inputs, attrs);
    const node = new Node<A>(this.nodes.length, this, op, inputs, attrs);
    this.nodes.push(node as unknown as Node);
    types.forEach((t, i) => node.outputs.push(new Tensor(node as unknown as Node, i, t.dtype, t.shape)));
    return node.outputs;
  }

  /** Registers a unique external name (graph input or parameter). */
  claimName(name: string, t: Tensor): void {
    if (this.names.has(name))
      fail('name', `"${name}" is already used by ${this.names.get(name)!.toString()}`);
    this.names.set(name, t);
  }

  byName(name: string): Tensor | undefined {
    return this.names.get(name);
  }
}

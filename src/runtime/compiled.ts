// A compiled function: one ONNX graph for a fixed set of inputs and outputs, one ONNX Runtime session,
// feeds checked against the declared names, dtypes and shapes before they reach the runtime.

import { emitModel, encodeModel, leafName, type EmitSpec } from '../graph/emit.js';
import type { Graph } from '../graph/graph.js';
import { formatShape, type Dim } from '../graph/shape.js';
import { needsDropoutFromUniform, OrtSession, type HostTensor, type SessionOptions } from './ort.js';

export class FeedError extends Error {
  override name = 'FeedError';
}

export interface CompileSpec extends EmitSpec {
  readonly session?: SessionOptions;
}

export interface Declared {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly Dim[];
}

export class CompiledFunction {
  private constructor(
    private readonly session: OrtSession,
    readonly model: Uint8Array,
    readonly inputs: readonly Declared[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(spec: CompileSpec): Promise<CompiledFunction> {
    const inputs = spec.inputs.map((t) => ({ name: leafName(t)!, dtype: t.dtype, shape: t.shape }));
    return CompiledFunction.fromModel(
      encodeModel(emitModel({ dropoutFromUniform: needsDropoutFromUniform(spec.session), ...spec })),
      inputs,
      Object.keys(spec.outputs),
      spec.name ? { label: spec.name, ...spec.session } : spec.session,
      Object.values(spec.outputs)[0]?.graph,
    );
  }

  /**
   * A session for an already emitted model whose inputs are declared by name, dtype and shape; `graph`,
   * the graph it was emitted from, lets an error name the op that ONNX Runtime has no kernel for.
   */
  static async fromModel(
    model: Uint8Array,
    inputs: readonly Declared[],
    outputNames: readonly string[],
    session?: SessionOptions,
    graph?: Graph,
  ): Promise<CompiledFunction> {
    try {
      return new CompiledFunction(await OrtSession.create(model, session), model, inputs, outputNames);
    } catch (e) {
      throw withMissingKernelOp(e, graph);
    }
  }

  /** Checks feeds: unknown or missing names, dtypes, ranks, static sizes and consistent symbolic sizes. */
  check(feeds: Readonly<Record<string, HostTensor>>): void {
    const known = new Set(this.inputs.map((d) => d.name));
    for (const k of Object.keys(feeds)) {
      if (!known.has(k))
        throw new FeedError(`unknown input "${k}"; this function takes: ${[...known].join(', ')}`);
    }
    const symbols = new Map<string, [number, string]>();
    for (const d of this.inputs) {
      const t = feeds[d.name];
      if (!t) throw new FeedError(`missing input "${d.name}" (${d.dtype}${formatShape(d.shape)})`);
      if (t.dtype !== d.dtype) throw new FeedError(`input "${d.name}": expected ${d.dtype}, got ${t.dtype}`);
      const where = `input "${d.name}": expected shape ${formatShape(d.shape)}, got ${formatShape(t.dims)}`;
      if (t.dims.length !== d.shape.length) throw new FeedError(where);
      const size = t.dims.reduce((a, b) => a * b, 1);
      if (t.data.length !== size)
        throw new FeedError(`input "${d.name}": ${t.data.length} values for shape ${formatShape(t.dims)}`);
      d.shape.forEach((dim, i) => {
        const got = t.dims[i]!;
        if (typeof dim === 'number') {
          if (dim !== got) throw new FeedError(where);
        } else {
          const seen = symbols.get(dim);
          if (seen && seen[0] !== got)
            throw new FeedError(`${where}; "${dim}" is ${seen[0]} in input "${seen[1]}"`);
          symbols.set(dim, [got, d.name]);
        }
      });
    }
  }

  async run(
    feeds: Readonly<Record<string, HostTensor>>,
    outputs?: readonly string[],
    into?: Readonly<Record<string, HostTensor>>,
  ): Promise<Record<string, HostTensor>> {
    this.check(feeds);
    return this.session.run(feeds, outputs, into);
  }

  /** Writes the ONNX model atomically (temporary file, then rename). */
  async save(path: string): Promise<void> {
    // Imported here, not at the top, so that browsers can load this module.
    const { writeFile, rename } = await import('node:fs/promises');
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, this.model);
    await rename(tmp, path);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function compile(spec: CompileSpec): Promise<CompiledFunction> {
  return CompiledFunction.create(spec);
}

/**
 * ONNX Runtime names a node it has no kernel for (an op on a dtype its provider lacks, such as float64
 * LayerNormalization, Erf or OneHot on the CPU); emitted nodes are named `n<graph node id>_<k>`, so the
 * error can say which of the graph's ops it was and on which types.
 */
function withMissingKernelOp(e: unknown, graph: Graph | undefined): unknown {
  // The CPU provider's wording, then the one with WebGPU (a node no provider took).
  const m =
    /Could not find an implementation for (\S+) node with name '[^']*?n(\d+)_\d+'/.exec(String(e)) ??
    /Provider type for (\S+) node with name '[^']*?n(\d+)_\d+' is not set/.exec(String(e));
  const node = m && graph ? graph.nodes[Number(m[2])] : undefined;
  if (!node) return e;
  const types = (ts: readonly { dtype: string; shape: readonly Dim[] }[]) =>
    ts.map((t) => `${t.dtype}${formatShape(t.shape)}`).join(', ');
  return new Error(
    `${node.op.name} (inputs: ${types(node.inputs)}; outputs: ${types(node.outputs)}) has no ONNX Runtime kernel on this execution provider ` +
      `(${m![1]}); build it in another dtype (float32 has them all)`,
    { cause: e },
  );
}

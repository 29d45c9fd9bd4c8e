// `plmkit bench profile FILE`: sums an ONNX Runtime profile (written under PLMKIT_PROFILE=DIR) by op type
// and by output size, so that a step's time can be split into matrix products, elementwise passes, etc.
// The matrix products' FLOPs come from the shapes the trace records, so their achieved rate inside the
// step can be set beside the engine's 1024x1024 rate.

import { readFile } from 'node:fs/promises';

type TypeShape = Readonly<Record<string, readonly number[]>>;

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: {
    readonly op_name?: string;
    readonly output_size?: string | number;
    readonly input_type_shape?: readonly TypeShape[];
    readonly output_type_shape?: readonly TypeShape[];
  };
}

// A control-flow node's kernel time contains its subgraph's kernels, which the trace lists too: counting
// both would count the body twice.
const CONTROL_FLOW = new Set(['Loop', 'Scan', 'If']);

const MATRIX_PRODUCTS = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm']);

// Output bytes: kernels on the largest tensors are memory-bound, the smallest pay mostly launch overhead.
const SIZE_CLASSES: readonly [string, number][] = [
  ['<64KB', 64 << 10],
  ['<1MB', 1 << 20],
  ['<16MB', 16 << 20],
  ['>=16MB', Infinity],
];

const dims = (t: TypeShape | undefined): readonly number[] | undefined =>
  t ? Object.values(t)[0] : undefined;

/**
 * FLOPs of one matrix product from its recorded shapes: 2 * output elements * the contracted length.
 * The trace does not say whether an operand was transposed (FusedMatMul, Gemm), so the contracted length
 * is the one of A's last two dimensions that leaves A's other one equal to the output's rows and B's
 * other one equal to its columns. Undefined when no length fits (vector operands, missing shapes).
 */
export function matrixProductFlops(e: TraceEvent): number | undefined {
  const [a, b] = (e.args?.input_type_shape ?? []).map(dims);
  const out = dims(e.args?.output_type_shape?.[0]);
  if (!a || !b || !out || a.length < 2 || b.length < 2 || out.length < 2) return undefined;
  const [m, n] = [out[out.length - 2]!, out[out.length - 1]!];
  const [a0, a1] = [a[a.length - 2]!, a[a.length - 1]!];
  const [b0, b1] = [b[b.length - 2]!, b[b.length - 1]!];
  const fits = (k: number, other: number) =>
    other === m && ((b0 === k && b1 === n) || (b1 === k && b0 === n));
  const k = fits(a1, a0) ? a1 : fits(a0, a1) ? a0 : undefined;
  return k === undefined ? undefined : 2 * out.reduce((s, d) => s * d, 1) * k;
}

export async function summarizeProfile(file: string): Promise<Record<string, unknown>> {
  let events: TraceEvent[];
  try {
    events = JSON.parse(await readFile(file, 'utf8')) as TraceEvent[];
  } catch (e) {
    throw new Error(`${file}: not an ONNX Runtime profile (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(events)) throw new Error(`${file}: not an ONNX Runtime profile (no event array)`);
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const kernels = events.filter(
    (e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') && !CONTROL_FLOW.has(e.args?.op_name ?? ''),
  );
  if (runs.length === 0 || kernels.length === 0) throw new Error(`${file}: no model_run or kernel events`);
  const runUs = runs.reduce((s, e) => s + (e.dur ?? 0), 0);
  const kernelUs = kernels.reduce((s, e) => s + (e.dur ?? 0), 0);
  const byOp = new Map<string, { us: number; calls: number }>();
  const bySize = new Map<string, { us: number; calls: number }>(
    SIZE_CLASSES.map(([k]) => [k, { us: 0, calls: 0 }]),
  );
  const products = { us: 0, calls: 0, flops: 0, unsized: 0 };
  for (const e of kernels) {
    const op = e.args?.op_name ?? '?';
    const o = byOp.get(op) ?? { us: 0, calls: 0 };
    o.us += e.dur ?? 0;
    o.calls += 1;
    byOp.set(op, o);
    const bytes = Number(e.args?.output_size ?? 0);
    const cls = SIZE_CLASSES.find(([, max]) => bytes < max)![0];
    const s = bySize.get(cls)!;
    s.us += e.dur ?? 0;
    s.calls += 1;
    if (MATRIX_PRODUCTS.has(op)) {
      const flops = matrixProductFlops(e);
      if (flops === undefined) products.unsized += 1;
      else {
        products.us += e.dur ?? 0;
        products.calls += 1;
        products.flops += flops;
      }
    }
  }
  const perRun = (x: number) => x / runs.length;
  const per = (m: Map<string, { us: number; calls: number }>) =>
    Object.fromEntries(
      [...m]
        .sort((a, b) => b[1].us - a[1].us)
        .map(([k, v]) => [
          k,
          {
            ms_per_run: +(perRun(v.us) / 1000).toFixed(3),
            calls_per_run: +perRun(v.calls).toFixed(1),
            share_of_kernel_time: +(v.us / kernelUs).toFixed(4),
          },
        ]),
    );
  return {
    file,
    runs: runs.length,
    ms_per_run: +(perRun(runUs) / 1000).toFixed(3),
    // Control-flow nodes (Loop, Scan, If) are left out: their bodies' kernels are counted instead.
    kernel_ms_per_run: +(perRun(kernelUs) / 1000).toFixed(3),
    kernels_per_run: +perRun(kernels.length).toFixed(1),
    // MatMul, FusedMatMul, Gemm and FusedGemm with shapes in the trace; calls_without_shapes are not in
    // the other figures.
    matrix_products: {
      gflop_per_run: +(perRun(products.flops) / 1e9).toFixed(4),
      ms_per_run: +(perRun(products.us) / 1000).toFixed(3),
      gflops: products.us > 0 ? +(products.flops / (products.us * 1e3)).toFixed(2) : null,
      share_of_kernel_time: +(products.us / kernelUs).toFixed(4),
      calls_per_run: +perRun(products.calls).toFixed(1),
      calls_without_shapes: products.unsized,
    },
    by_output_size: per(bySize),
    by_op: per(byOp),
  };
}

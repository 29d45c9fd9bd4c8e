// `plmkit bench profile FILE`: sums an ONNX Runtime profile (written under PLMKIT_PROFILE=DIR) by op type
// and by output size, so that a step's time can be split into matrix products, elementwise passes, etc.

import { readFile } from 'node:fs/promises';

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string; readonly output_size?: string | number };
}

// Output bytes: kernels on the largest tensors are memory-bound, the smallest pay mostly launch overhead.
const SIZE_CLASSES: readonly [string, number][] = [
  ['<64KB', 64 << 10],
  ['<1MB', 1 << 20],
  ['<16MB', 16 << 20],
  ['>=16MB', Infinity],
];

export async function summarizeProfile(file: string): Promise<Record<string, unknown>> {
  let events: TraceEvent[];
  try {
    events = JSON.parse(await readFile(file, 'utf8')) as TraceEvent[];
  } catch (e) {
    throw new Error(`${file}: not an ONNX Runtime profile (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(events)) throw new Error(`${file}: not an ONNX Runtime profile (no event array)`);
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const kernels = events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
  if (runs.length === 0 || kernels.length === 0) throw new Error(`${file}: no model_run or kernel events`);
  const runUs = runs.reduce((s, e) => s + (e.dur ?? 0), 0);
  const kernelUs = kernels.reduce((s, e) => s + (e.dur ?? 0), 0);
  const byOp = new Map<string, { us: number; calls: number }>();
  const bySize = new Map<string, { us: number; calls: number }>(
    SIZE_CLASSES.map(([k]) => [k, { us: 0, calls: 0 }]),
  );
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
  }
  const per = (m: Map<string, { us: number; calls: number }>) =>
    Object.fromEntries(
      [...m]
        .sort((a, b) => b[1].us - a[1].us)
        .map(([k, v]) => [
          k,
          {
            ms_per_run: +(v.us / 1000 / runs.length).toFixed(3),
            calls_per_run: +(v.calls / runs.length).toFixed(1),
            share_of_kernel_time: +(v.us / kernelUs).toFixed(4),
          },
        ]),
    );
  return {
    file,
    runs: runs.length,
    ms_per_run: +(runUs / 1000 / runs.length).toFixed(3),
    kernel_ms_per_run: +(kernelUs / 1000 / runs.length).toFixed(3),
    kernels_per_run: +(kernels.length / runs.length).toFixed(1),
    by_output_size: per(bySize),
    by_op: per(byOp),
  };
}

// Static cost of a graph: the FLOPs of its matrix products, with symbolic dimensions bound to sizes.

import type { Tensor } from './graph.js';
import { neededNodes } from './emit.js';
import { MatMulOp } from './ops/matmul.js';
import type { Dim } from './shape.js';

function size(d: Dim, bind: Readonly<Record<string, number>>): number {
  if (typeof d === 'number') return d;
  // Composite symbols such as "batch*seq" multiply their factors.
  return d.split('*').reduce((acc, f) => {
    const v = /^\d+$/.test(f) ? Number(f) : bind[f];
    if (v === undefined) throw new Error(`no size bound for symbolic dimension "${f}"`);
    return acc * v;
  }, 1);
}

/** 2*M*K*N per product (times broadcast batch), over every MatMul the outputs need. */
export function matmulFlops(outputs: readonly Tensor[], bind: Readonly<Record<string, number>>): number {
  let flops = 0;
  for (const node of neededNodes(outputs)) {
    if (node.op !== MatMulOp) continue;
    const a = node.inputs[0]!;
    const out = node.outputs[0]!;
    const k = size(a.shape[a.rank - 1]!, bind);
    flops += 2 * k * out.shape.reduce((acc: number, d) => acc * size(d, bind), 1);
  }
  return flops;
}

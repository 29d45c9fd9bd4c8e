// Reverse-mode differentiation over the symbolic graph. The engine walks nodes backwards, calls each
// primitive's rule, sums broadcast cotangents back to input shapes and accumulates where paths meet.
// Gradients are ordinary graph tensors, so they can be outputs, be differentiated again (double
// backward), or be combined per layer before an optimizer update.

import { isFloat } from './dtype.js';
import { fail, type Node, type Tensor } from './graph.js';
import { add } from './ops/elementwise.js';
import { scalar } from './ops/core.js';
import { sumToShape, zerosLike } from './ops/reduce.js';
import { expandLike } from './ops/shape-ops.js';
import { formatShape, sameShape } from './shape.js';

/** Cotangents of `wrt` given cotangents of `outputs` (a vector-Jacobian product). Unreached inputs get zeros. */
export function vjp(
  outputs: readonly Tensor[],
  cotangents: readonly Tensor[],
  wrt: readonly Tensor[],
): Tensor[] {
  if (outputs.length !== cotangents.length)
    fail('vjp', `${outputs.length} outputs but ${cotangents.length} cotangents`);
  if (outputs.length === 0) fail('vjp', 'needs at least one output');
  const graph = outputs[0]!.graph;
  for (const w of wrt) {
    if (w.graph !== graph) fail('grad', `${w.toString()} belongs to another graph`);
    if (!isFloat(w.dtype))
      fail('grad', `cannot differentiate with respect to ${w.dtype} tensor ${w.toString()}`);
  }

  // Tensors that depend on some wrt tensor: only these can carry a non-zero cotangent to wrt.
  const depends = new Set<Tensor>(wrt);
  const minId = Math.min(...wrt.map((w) => w.node.id));
  for (const node of graph.nodes.slice(Number.isFinite(minId) ? minId : graph.nodes.length)) {
    if (node.inputs.some((t) => depends.has(t))) node.outputs.forEach((t) => depends.add(t));
  }

  const ct = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor): void => {
    if (g.dtype !== t.dtype) fail('grad', `cotangent dtype ${g.dtype} for ${t.toString()}`);
    const shaped = sameShape(g.shape, t.shape) ? g : sumToShape(g, t.shape);
    if (!sameShape(shaped.shape, t.shape))
      fail('grad', `cotangent ${formatShape(shaped.shape)} does not fit ${t.toString()}`);
    const prev = ct.get(t);
    ct.set(t, prev ? add(prev, shaped) : shaped);
  };
  outputs.forEach((o, i) => {
    if (depends.has(o))
      accumulate(
        o,
        sameShape(cotangents[i]!.shape, o.shape) ? cotangents[i]! : expandLike(cotangents[i]!, o),
      );
  });

  const maxId = Math.max(...outputs.map((o) => o.node.id));
  for (let id = maxId; id >= 0; id--) {
    const node: Node = graph.nodes[id]!;
    const gs = node.outputs.map((t) => ct.get(t) ?? null);
    if (node.inputs.length === 0 || gs.every((g) => g === null)) continue;
    if (!node.op.vjp) fail(node.op.name, 'has no gradient rule but a gradient reached it', node.inputs);
    const ins = node.op.vjp(node, gs);
    if (ins.length !== node.inputs.length)
      fail(
        node.op.name,
        `gradient rule returned ${ins.length} cotangents for ${node.inputs.length} inputs`,
        node.inputs,
      );
    ins.forEach((g, i) => {
      const t = node.inputs[i]!;
      if (g && depends.has(t) && isFloat(t.dtype)) accumulate(t, g);
    });
  }
  return wrt.map((w) => ct.get(w) ?? zerosLike(w));
}

/** Gradients of a scalar with respect to each of `wrt` (parameters, inputs or intermediate tensors). */
export function grad(y: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (y.rank !== 0)
    fail('grad', `needs a scalar, got shape ${formatShape(y.shape)}; use vjp for non-scalars`, [y]);
  return vjp([y], [scalar(y.graph, 1, y.dtype)], wrt);
}

export function valueAndGrad(y: Tensor, wrt: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  return { value: y, grads: grad(y, wrt) };
}

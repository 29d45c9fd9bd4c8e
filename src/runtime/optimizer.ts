// Optimizer updates as graph code, so a whole training step (forward, backward, clipping, update) is one
// ONNX graph. Per-step scalars (learning rate, bias corrections) are fed as inputs.

import type { Graph, Tensor } from '../graph/graph.js';
import { input } from '../graph/ops/core.js';
import { add, div, mul, sqrt, sub } from '../graph/ops/elementwise.js';
import { indexAdd } from '../graph/ops/nn-ops.js';
import { denseGradient, type RowGradient } from './row-gradient.js';

export type OptimizerConfig =
  | {
      readonly kind: 'adamw';
      readonly beta1?: number;
      readonly beta2?: number;
      readonly eps?: number;
      readonly weightDecay?: number;
      /** Parameters excluded from weight decay (default: biases and LayerNorm weights, as transformers does). */
      readonly noDecay?: (name: string) => boolean;
    }
  | { readonly kind: 'sgd'; readonly momentum?: number; readonly weightDecay?: number };

export const defaultNoDecay = (name: string): boolean => /(^|\.)bias$|LayerNorm|layer_norm|\.ln/i.test(name);

/** State tensors kept per parameter, by suffix. */
export function slotNames(cfg: OptimizerConfig): string[] {
  if (cfg.kind === 'adamw') return ['exp_avg', 'exp_avg_sq'];
  return (cfg.momentum ?? 0) > 0 ? ['momentum'] : [];
}

export interface StepScalars {
  readonly lr: Tensor;
  readonly [k: string]: Tensor;
}

/** Declares the scalar inputs the update reads. */
export function stepScalarInputs(g: Graph, cfg: OptimizerConfig): StepScalars {
  const s: Record<string, Tensor> = { lr: input(g, 'optim.lr', 'float32', []) };
  if (cfg.kind === 'adamw') {
    s['stepSize'] = input(g, 'optim.step_size', 'float32', []);
    s['epsHat'] = input(g, 'optim.eps_hat', 'float32', []);
  }
  return s as StepScalars;
}

/** Host-side values for those inputs at a 1-based step. */
export function stepScalarValues(cfg: OptimizerConfig, lr: number, step: number): Record<string, number> {
  const v: Record<string, number> = { 'optim.lr': lr };
  if (cfg.kind === 'adamw') {
    const b1 = cfg.beta1 ?? 0.9;
    const b2 = cfg.beta2 ?? 0.999;
    const sqrtBc2 = Math.sqrt(1 - b2 ** step);
    v['optim.step_size'] = (lr * sqrtBc2) / (1 - b1 ** step);
    v['optim.eps_hat'] = (cfg.eps ?? 1e-8) * sqrtBc2;
  }
  return v;
}

/**
 * New parameter and slot values after one update. `gradScale` (a scalar, e.g. the clipping factor)
 * multiplies the gradient; AdamW folds it into its scalar coefficients instead of scaling the gradient
 * tensor. AdamW is PyTorch's (decoupled weight decay), rearranged so that the bias corrections are
 * scalars: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) = (lr*sqrt(bc2)/bc1) * m / (sqrt(v) + eps*sqrt(bc2)).
 * A gradient given as rows (an embedding's) adds into AdamW's decayed moments at those rows only: the same
 * values as the dense update, with fewer passes over the table.
 */
export function applyUpdate(
  cfg: OptimizerConfig,
  name: string,
  p: Tensor,
  grad: Tensor | RowGradient,
  slots: readonly Tensor[],
  s: StepScalars,
  gradScale?: Tensor,
): { param: Tensor; slots: Tensor[] } {
  if (cfg.kind === 'adamw') {
    const b1 = cfg.beta1 ?? 0.9;
    const b2 = cfg.beta2 ?? 0.999;
    const wd = (cfg.noDecay ?? defaultNoDecay)(name) ? 0 : (cfg.weightDecay ?? 0.01);
    const c1 = gradScale ? mul(gradScale, 1 - b1) : 1 - b1;
    const c2 = gradScale ? mul(mul(gradScale, gradScale), 1 - b2) : 1 - b2;
    const rows = 'rows' in grad ? grad : undefined;
    // Same operations in the same order either way: (m*b1) + (g*c1) and (v*b2) + ((g*g)*c2).
    const m = rows
      ? indexAdd(mul(slots[0]!, b1), rows.index, mul(rows.rows, c1))
      : add(mul(slots[0]!, b1), mul(grad as Tensor, c1));
    const v = rows
      ? indexAdd(mul(slots[1]!, b2), rows.index, mul(mul(rows.rows, rows.rows), c2))
      : add(mul(slots[1]!, b2), mul(mul(grad as Tensor, grad as Tensor), c2));
    const update = mul(div(m, add(sqrt(v), s['epsHat']!)), s['stepSize']!);
    const decayed = wd === 0 ? p : mul(p, sub(1, mul(s.lr, wd)));
    return { param: sub(decayed, update), slots: [m, v] };
  }
  const g = 'rows' in grad ? denseGradient(p, grad) : grad;
  const wd = cfg.weightDecay ?? 0;
  const scaled = gradScale ? mul(g, gradScale) : g;
  const gd = wd === 0 ? scaled : add(scaled, mul(p, wd));
  if ((cfg.momentum ?? 0) > 0) {
    const buf = add(mul(slots[0]!, cfg.momentum!), gd);
    return { param: sub(p, mul(buf, s.lr)), slots: [buf] };
  }
  return { param: sub(p, mul(gd, s.lr)), slots: [] };
}

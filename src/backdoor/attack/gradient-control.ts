// The gradient-control method of Gu et al., "A Gradient Control Method for Backdoor Attacks on
// Parameter-Efficient Tuning" (ACL 2023), as graph functions: from a clean loss (clean batch) and a poisoned
// loss (poisoned batch) they build the final per-parameter gradients of one training step, for
// `TrainStep.create({ grads, extraOutputs })`.
//
// Layer groups: the trainable parameters grouped by encoder layer l = 0..L-1 (the index in the name,
// `...layer.<l>...`), plus the output layer o = the classification head (`classifier.*`), indexed L (the top).
// A group's gradient is the concatenation of its parameters' gradients; its magnitude G(l) is that vector's
// L2 norm and dot products run over the whole group.
//
// CLNorm (cross-layer gradient magnitude normalization), on the poisoned gradient only: a learned scale w_l
// per group (L + 1 values, initialised to 1) is carried across steps as the graph input `clnorm.w`; the step
// outputs its update, which the caller feeds back next step:
//   Avg  = mean of G_p(l) over the groups that hold parameters (an empty group, e.g. a layer without a
//          module, has G_p = 0 and is left out so that it does not pull the target down)
//   z(l) = Avg / (l_a - l_o) * (l - l_o)    (a line through (l_a, Avg) and (l_o = L, 0))
//   w_l <- w_l - alpha (w_l G_p(l) - z(l)) G_p(l)   (a gradient step on (w_l G_p(l) - z(l))^2 / 2)
// G_p is the magnitude of the raw poisoned gradient, and the gradient used this step is w_l g_p(l) with the
// CURRENT w_l (the value fed in); the updated w_l is only the state for the next step. So the scales lag
// one step behind Gu et al.'s Algorithm 1, which updates w_l first and scales by the new value (kept: the
// committed attack results were made this way, and at alpha 1e-4 the lag moves w_l by 1e-4 G_p^2).
//
// ILProj (intra-layer gradient direction projection), per group, on g_c and the (CLNorm-scaled) g_p:
//   g_c' = g_c - (g_c.g_p / |g_p|^2) g_p,   g_p' = g_p - (g_p.g_c / |g_c|^2) g_c
//   g(l) = (1 - beta_l)(g_c' + g_p') + beta_l (g_c + g_p)
// beta_l = 1 for the bottom half (l < L/2), 0 for the top half and for the output layer (the head is the
// topmost group, so it is projected like the top layers). With `onlyOnConflict` the projection applies
// only where g_c.g_p < 0; otherwise g_c + g_p is kept. Divisions are guarded: x / max(y, eps).
//
// With ILProj off the groups' gradients are g_c + g_p (scaled by CLNorm when it is on); with both off the
// result is the gradient of cleanLoss + poisonLoss.

import { z } from 'zod';
import { fail, type Tensor } from '../../graph/graph.js';
import {
  add,
  concat,
  constant,
  div,
  grad,
  input,
  leafName,
  less,
  maximum,
  mul,
  reshape,
  scalar,
  sliceAxis,
  sqrt,
  sub,
  sum,
  where,
} from '../../graph/index.js';
import { isHeadParam } from '../../pet/attach.js';
import { BackdoorError } from '../poison/poisoner.js';

/** Name of the graph input carrying the CLNorm scales w (shape [L + 1], layer 0 first, the head last). */
export const CLNORM_W_INPUT = 'clnorm.w';

export const clnormOptionsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Learning rate of the scales w. */
  alpha: z.number().positive().default(1e-4),
  /** l_a: the layer where the target line equals the mean magnitude (default floor((L - 1) / 2)). */
  anchorLayer: z.number().int().nonnegative().optional(),
});

export const ilprojOptionsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Project only the groups whose clean and poisoned gradients conflict (g_c.g_p < 0). */
  onlyOnConflict: z.boolean().default(false),
  /**
   * beta per group (L + 1 values in [0, 1], the head last): 1 keeps g_c + g_p, 0 projects. Default: 1 for
   * the layers l < L/2, 0 for the others and for the head.
   */
  beta: z.array(z.number().min(0).max(1)).optional(),
});

/** The method's options; a part left out is on with its defaults (the paper's full method). */
export const gradientControlOptionsSchema = z.strictObject({
  clnorm: clnormOptionsSchema.prefault({}),
  ilproj: ilprojOptionsSchema.prefault({}),
  /** Guard of every division. */
  eps: z.number().positive().default(1e-12),
});
export type GradientControlOptionsInput = z.input<typeof gradientControlOptionsSchema>;
export type GradientControlOptions = z.output<typeof gradientControlOptionsSchema>;

export function parseGradientControlOptions(
  opts: GradientControlOptionsInput | GradientControlOptions = {},
): GradientControlOptions {
  const r = gradientControlOptionsSchema.safeParse(opts);
  if (!r.success)
    throw new BackdoorError(
      `gradient-control options: ${r.error.issues
        .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  return r.data;
}

export interface LayerGroups {
  readonly numLayers: number;
  /** L + 1 groups of indices into the names: layers 0..L-1, then the output layer (the head). */
  readonly groups: readonly (readonly number[])[];
  /** Group of each name (L for the head). */
  readonly groupOf: readonly number[];
}

const LAYER_INDEX = /(?:^|\.)layer\.(\d+)(?:\.|$)/;

/** The encoder layer of a parameter name (`...layer.<i>...`), or undefined when it names none. */
export function layerIndexOf(name: string): number | undefined {
  const m = LAYER_INDEX.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Groups parameter names by encoder layer (0..numLayers-1) and the output layer (`classifier.*`, group
 * numLayers). A name with neither (prefix/prompt-tuning tables shared by all layers, embeddings, the pooler)
 * is an error, as is a layer index outside the model.
 */
export function layerGroups(names: readonly string[], numLayers: number): LayerGroups {
  if (!Number.isInteger(numLayers) || numLayers < 1)
    throw new BackdoorError(`numLayers must be a positive integer, got ${numLayers}`);
  const groups: number[][] = Array.from({ length: numLayers + 1 }, () => []);
  const groupOf = names.map((name, i) => {
    let l: number | undefined;
    if (isHeadParam(name)) l = numLayers;
    else {
      l = layerIndexOf(name);
      if (l === undefined)
        throw new BackdoorError(
          `parameter "${name}" belongs to no encoder layer: gradient control groups parameters by the ` +
            `layer index in their name ("...layer.<i>...") or as the classification head ("classifier.*")`,
        );
      if (l >= numLayers)
        throw new BackdoorError(
          `parameter "${name}" is in layer ${l}, but the model has ${numLayers} layers (0..${numLayers - 1})`,
        );
    }
    groups[l]!.push(i);
    return l;
  });
  return { numLayers, groups, groupOf };
}

export interface GradientControlSpec extends GradientControlOptionsInput {
  readonly cleanLoss: Tensor;
  readonly poisonLoss: Tensor;
  /** The trainable parameters (PET modules and the head), as passed to TrainStep as `trainable`. */
  readonly params: readonly Tensor[];
  /** Their names (default: the parameters' leaf names). */
  readonly names?: readonly string[];
  /** Encoder layers L of the model. */
  readonly numLayers: number;
}

export interface GradientControl {
  /** Final gradients aligned with `params`. */
  readonly grads: Tensor[];
  /** With CLNorm: the input `clnorm.w` [L + 1]; feed it each step (all ones at the start). */
  readonly wInput?: Tensor;
  /** With CLNorm: the updated scales, to feed back as `clnorm.w` next step. */
  readonly wNext?: Tensor;
  /**
   * Per-group vectors [L + 1] (layers, then the head): `clean_norm` |g_c(l)|, `poison_norm` |g_p(l)| (raw),
   * `cosine` cos(g_c(l), g_p(l)) (0 for an empty group), `final_norm` |g(l)| of the result; with CLNorm
   * also `poison_norm_scaled` w_l |g_p(l)| and `clnorm_target` z(l); with ILProj `conflict` (1 where
   * g_c.g_p < 0, else 0).
   */
  readonly stats: Record<string, Tensor>;
  readonly groups: LayerGroups;
  readonly options: GradientControlOptions;
}

/** Initial CLNorm scales: L + 1 ones. */
export function initialClnormWeights(numLayers: number): Float32Array {
  return new Float32Array(numLayers + 1).fill(1);
}

/** The default beta_l: 1 for l < L/2 (kept), 0 for the top half and the head (projected). */
export function defaultBeta(numLayers: number): number[] {
  return Array.from({ length: numLayers + 1 }, (_, l) => (l < numLayers && 2 * l < numLayers ? 1 : 0));
}

/** Sum of x_i . y_i over a group, a scalar (0 for an empty group). */
function groupDot(xs: readonly Tensor[], ys: readonly Tensor[], zero: Tensor): Tensor {
  return xs.reduce((acc, x, i) => add(acc, sum(mul(x, ys[i]!))), zero);
}

/** A vector [n] from n scalars. */
function stack(xs: readonly Tensor[]): Tensor {
  return concat(
    xs.map((x) => reshape(x, [1])),
    0,
  );
}

/** The gradient-control gradients of one step (see the file comment). */
export function gradientControl(spec: GradientControlSpec): GradientControl {
  const { cleanLoss, poisonLoss, params, numLayers } = spec;
  const opts = parseGradientControlOptions({
    ...(spec.clnorm ? { clnorm: spec.clnorm } : {}),
    ...(spec.ilproj ? { ilproj: spec.ilproj } : {}),
    ...(spec.eps !== undefined ? { eps: spec.eps } : {}),
  });
  if (cleanLoss.rank !== 0 || poisonLoss.rank !== 0)
    fail('gradientControl', 'the clean and poisoned losses must be scalars', [cleanLoss, poisonLoss]);
  const names =
    spec.names ??
    params.map((p) => {
      const n = leafName(p);
      if (n === undefined) throw new BackdoorError(`${p.toString()} is not a named parameter: pass names`);
      return n;
    });
  if (names.length !== params.length)
    throw new BackdoorError(`${names.length} names for ${params.length} parameters`);
  const groups = layerGroups(names, numLayers);
  const L = numLayers;
  const nGroups = L + 1;
  const g = cleanLoss.graph;
  const zero = scalar(g, 0);
  const eps = opts.eps;
  const safeDiv = (a: Tensor, b: Tensor) => div(a, maximum(b, eps));

  const gc = grad(cleanLoss, params);
  const gp = grad(poisonLoss, params);
  const pick = (xs: readonly Tensor[], l: number) => groups.groups[l]!.map((i) => xs[i]!);

  // Raw per-group statistics.
  const cc = Array.from({ length: nGroups }, (_, l) => groupDot(pick(gc, l), pick(gc, l), zero));
  const pp = Array.from({ length: nGroups }, (_, l) => groupDot(pick(gp, l), pick(gp, l), zero));
  const cp = Array.from({ length: nGroups }, (_, l) => groupDot(pick(gc, l), pick(gp, l), zero));
  const cleanNorm = cc.map((x) => sqrt(x));
  const poisonNorm = pp.map((x) => sqrt(x));
  const stats: Record<string, Tensor> = {
    clean_norm: stack(cleanNorm),
    poison_norm: stack(poisonNorm),
    cosine: stack(cp.map((d, l) => safeDiv(d, mul(cleanNorm[l]!, poisonNorm[l]!)))),
  };

  // CLNorm: scale each group's poisoned gradient by the current w_l; the update of w is the next state.
  let gpScaled: Tensor[] = gp;
  let wInput: Tensor | undefined;
  let wNext: Tensor | undefined;
  if (opts.clnorm.enabled) {
    const la = opts.clnorm.anchorLayer ?? Math.floor((L - 1) / 2);
    if (la >= L) throw new BackdoorError(`clnorm.anchorLayer ${la} is not an encoder layer (0..${L - 1})`);
    const nonEmpty = groups.groups.map((ix) => (ix.length > 0 ? 1 : 0));
    const count = nonEmpty.reduce((a: number, b) => a + b, 0);
    if (count === 0) throw new BackdoorError('gradient control needs at least one parameter');
    wInput = input(g, CLNORM_W_INPUT, 'float32', [nGroups]);
    const G = stats['poison_norm']!;
    const avg = div(sum(mul(G, constant(g, nonEmpty, [nGroups]))), count);
    // z(l) = Avg / (l_a - l_o) * (l - l_o), with l_o = L.
    const slope = constant(
      g,
      Array.from({ length: nGroups }, (_, l) => (l - L) / (la - L)),
      [nGroups],
    );
    const target = mul(avg, slope);
    wNext = sub(wInput, mul(opts.clnorm.alpha, mul(sub(mul(wInput, G), target), G)));
    const w = wInput;
    const wOf = Array.from({ length: nGroups }, (_, l) => reshape(sliceAxis(w, 0, l, l + 1), []));
    gpScaled = gp.map((x, i) => mul(x, wOf[groups.groupOf[i]!]!));
    stats['poison_norm_scaled'] = mul(w, G);
    stats['clnorm_target'] = target;
  }

  let grads: Tensor[];
  if (opts.ilproj.enabled) {
    const beta = opts.ilproj.beta ?? defaultBeta(L);
    if (beta.length !== nGroups)
      throw new BackdoorError(
        `ilproj.beta has ${beta.length} values; it needs ${nGroups} (layers 0..${L - 1}, then the head)`,
      );
    grads = new Array<Tensor>(params.length);
    const conflicts: Tensor[] = [];
    for (let l = 0; l < nGroups; l++) {
      const ix = groups.groups[l]!;
      const c = pick(gc, l);
      const p = pick(gpScaled, l);
      // Dot products with the scaled g_p (CLNorm's w_l scales g_p.g_p by w_l^2 and g_c.g_p by w_l).
      const dot = opts.clnorm.enabled ? groupDot(c, p, zero) : cp[l]!;
      const p2 = opts.clnorm.enabled ? groupDot(p, p, zero) : pp[l]!;
      const conflict = less(dot, 0);
      conflicts.push(conflict);
      const b = beta[l]!;
      const kc = b < 1 ? safeDiv(dot, p2) : undefined; // g_c' = g_c - kc g_p
      const kp = b < 1 ? safeDiv(dot, cc[l]!) : undefined; // g_p' = g_p - kp g_c
      ix.forEach((i, j) => {
        const plain = add(c[j]!, p[j]!);
        if (b >= 1) return void (grads[i] = plain);
        let proj = add(sub(c[j]!, mul(kc!, p[j]!)), sub(p[j]!, mul(kp!, c[j]!)));
        if (opts.ilproj.onlyOnConflict) proj = where(conflict, proj, plain);
        grads[i] = b > 0 ? add(mul(proj, 1 - b), mul(plain, b)) : proj;
      });
    }
    stats['conflict'] = stack(conflicts.map((c) => where(c, scalar(g, 1), zero)));
  } else {
    grads = gc.map((c, i) => add(c, gpScaled[i]!));
  }
  stats['final_norm'] = stack(
    Array.from({ length: nGroups }, (_, l) => sqrt(groupDot(pick(grads, l), pick(grads, l), zero))),
  );

  return {
    grads,
    ...(wInput ? { wInput } : {}),
    ...(wNext ? { wNext } : {}),
    stats,
    groups,
    options: opts,
  };
}

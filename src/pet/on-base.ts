// A classifier made of a base checkpoint and a loaded PET module: the module's parameters and head come
// from the module, everything else from the base (whose own head, if any, is dropped). A pooler the base
// lacks (an MLM checkpoint's) takes seed 0 unless the module carries the one it was trained with.
// `plmkit predict --adapter` and the browser's classifier both load modules this way.

import type { Tensor } from '../graph/graph.js';
import { bindWeights, type PretrainedDir } from '../io/weights.js';
import type { TextInputs } from '../nn/bert.js';
import type { ModelBuilder } from '../nn/builder.js';
import { isHeadParam, isPoolerParam, petClassifier } from './attach.js';
import type { LoadedPet } from './files.js';

/** The classifier's logits in `b` and every parameter's value; `where` names the module in errors. */
export function classifierOnBase(
  b: ModelBuilder,
  x: TextInputs,
  base: Pick<PretrainedDir, 'dir' | 'tensors' | 'config'>,
  module: LoadedPet,
  where: string,
): { logits: Tensor; values: Map<string, Float32Array> } {
  if (module.head.length === 0)
    throw new Error(`${where}: the module was saved without its classification head`);
  const out = petClassifier(b, x, base.config, module.config);
  const names = new Set(out.pet.names);
  const tensors = new Map([...base.tensors].filter(([k]) => !isHeadParam(k)));
  const bound = bindWeights(
    b,
    { ...base, tensors },
    0,
    (n) => names.has(n) || isHeadParam(n) || isPoolerParam(n),
  );
  const values = new Map([...bound.values, ...module.values]);
  const missing = [...b.params.keys()].filter((n) => !values.has(n));
  if (missing.length) throw new Error(`${where}: the module lacks ${missing.join(', ')}`);
  return { logits: out.logits, values };
}

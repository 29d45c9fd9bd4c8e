// Examples to token ids, with the labels mapped into the model's label ids.

import type { Example } from '../io/data/index.js';
import type { Tokenizer } from '../io/tokenizer/index.js';
import type { Encoded } from './batching.js';

export async function encodeExamples(
  tok: Tokenizer,
  examples: readonly Example[],
  maxLength: number,
): Promise<Encoded[]> {
  const out: Encoded[] = [];
  for (const e of examples) {
    const enc = await tok.encode(e.text, e.textPair, { truncation: true, maxLength });
    out.push({ ids: enc.ids, typeIds: enc.typeIds, label: e.label });
  }
  return out;
}

/**
 * Maps data-set label ids to model label ids. Models whose labels are the generic LABEL_k take data-set
 * ids as they are; otherwise labels are matched by name and an unknown name is an error.
 */
export function labelMapping(
  modelId2label: Readonly<Record<string, string>>,
  dataLabelNames: readonly string[],
): (id: number) => number {
  const names = Object.entries(modelId2label);
  if (names.every(([i, n]) => n === `LABEL_${i}`)) {
    if (dataLabelNames.length > names.length)
      throw new Error(`the data has ${dataLabelNames.length} labels but the model only ${names.length}`);
    return (id) => id;
  }
  const byName = new Map(names.map(([i, n]) => [n.toLowerCase(), Number(i)]));
  const table = dataLabelNames.map((n) => {
    const id = byName.get(n.toLowerCase());
    if (id === undefined)
      throw new Error(
        `data label "${n}" is not one of the model's labels (${names.map(([, n2]) => n2).join(', ')})`,
      );
    return id;
  });
  return (id) => table[id]!;
}

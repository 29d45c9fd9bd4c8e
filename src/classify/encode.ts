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
 * Maps data-set label ids to model label ids. Labels are matched by name (case-insensitively) when the
 * model's labels have names; data whose labels are integers (names "0", "1", ...), none of them a model
 * label's name, take them as class ids, as do models whose labels are the generic LABEL_k. Anything else
 * is an error.
 */
export function labelMapping(
  modelId2label: Readonly<Record<string, string>>,
  dataLabelNames: readonly string[],
): (id: number) => number {
  const names = Object.entries(modelId2label);
  const byName = new Map(names.map(([i, n]) => [n.toLowerCase(), Number(i)]));
  const generic = names.every(([i, n]) => n === `LABEL_${i}`);
  const integers = dataLabelNames.every((n, i) => n === String(i));
  // Integer labels are class ids only where none of them is one of the model's names (a model whose labels
  // are "1".."5" matches by name, and refuses a "0").
  if (generic || (integers && !dataLabelNames.some((n) => byName.has(n.toLowerCase())))) {
    if (dataLabelNames.length > names.length)
      throw new Error(
        `the data has ${integers ? `class ids up to ${dataLabelNames.length - 1}` : `${dataLabelNames.length} labels`} ` +
          `but the model has ${names.length} labels (${names.map(([, n]) => n).join(', ')})`,
      );
    return (id) => id;
  }
  // A name the model lacks is an error when a row has it: integer labels 1..5 make names "0".."5", and no
  // row need be labelled 0.
  const table = dataLabelNames.map((n) => byName.get(n.toLowerCase()));
  return (id) => {
    const modelId = table[id];
    if (modelId === undefined)
      throw new Error(
        `data label "${dataLabelNames[id]}" is not one of the model's labels (${names.map(([, n]) => n).join(', ')})`,
      );
    return modelId;
  };
}

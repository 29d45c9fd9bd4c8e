// JSON.parse keeps the last of two members with the same name, silently; formats where a repeated name
// means a tampered or broken file (a safetensors header) look for one with a real JSON parser.

import { visit } from 'jsonc-parser';

export interface DuplicateKey {
  /** Where the object holding it sits (keys and array indices from the root). */
  readonly path: readonly (string | number)[];
  readonly key: string;
  /** 1-based line and column of the second occurrence. */
  readonly line: number;
  readonly column: number;
}

/** The first member name repeated within one object of `text`, which must be valid JSON. */
export function firstDuplicateKey(text: string): DuplicateKey | undefined {
  const seen: Set<string>[] = [];
  let found: DuplicateKey | undefined;
  visit(text, {
    onObjectBegin: () => {
      seen.push(new Set());
    },
    onObjectEnd: () => {
      seen.pop();
    },
    onObjectProperty: (key, _offset, _length, line, character, pathSupplier) => {
      const names = seen[seen.length - 1]!;
      if (found === undefined && names.has(key))
        found = { path: pathSupplier(), key, line: line + 1, column: character + 1 };
      names.add(key);
    },
  });
  return found;
}

/** The repeated key with the path to it, for messages: `"weight_map" > "bert.pooler.dense.bias"`. */
export function duplicateKeyPath(dup: DuplicateKey): string {
  return [...dup.path, dup.key].map((k) => JSON.stringify(k)).join(' > ');
}

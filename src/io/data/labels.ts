// Label values as found in files (integers or names) and their mapping to class ids.

/** A label as read: a non-negative integer, or a non-empty (trimmed) name. */
export type RawLabel = number | string;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * The largest integer label accepted: integer labels are class ids, and a classification head gets one row
 * per id up to the largest, so a far larger id is a wrong column rather than a class.
 */
export const MAX_CLASS_ID = 99_999;

const tooLarge = (label: number | string) =>
  `label ${label} is above ${MAX_CLASS_ID}, the largest class id accepted (integer labels are class ids 0, 1, ...)`;

/** Checks a label value from a JSON row or a CSV/TSV cell; returns the raw label or an error reason. */
export function parseRawLabel(value: unknown): { label: RawLabel } | { error: string } {
  if (value === undefined || value === null) return { error: 'missing label' };
  if (typeof value === 'number') {
    if (!(Number.isSafeInteger(value) && value >= 0))
      return { error: `label ${value} is not a non-negative integer` };
    if (value > MAX_CLASS_ID) return { error: tooLarge(value) };
    return { label: value };
  }
  if (typeof value === 'string') {
    const name = value.trim();
    if (name === '') return { error: 'missing label (empty)' };
    if (DECIMAL.test(name) && Number(name) > MAX_CLASS_ID) return { error: tooLarge(name) };
    return { label: name };
  }
  return { error: `label must be an integer or a string, got ${JSON.stringify(value)}` };
}

/** The integer a raw label stands for, if it is one (a number or a decimal string such as "2"). */
function asInteger(label: RawLabel): number | undefined {
  if (typeof label === 'number') return label;
  return DECIMAL.test(label) && label.length <= 15 ? Number(label) : undefined;
}

/**
 * Maps a raw label to an id with known class names: a label whose text equals a name gets that name's index;
 * otherwise an integer label (number or decimal string) is the id itself if it is in `[0, names.length)`.
 * Returns undefined for an unknown label.
 */
export function labelIdFromNames(label: RawLabel, names: readonly string[]): number | undefined {
  const byName = names.indexOf(String(label));
  if (byName >= 0) return byName;
  const id = asInteger(label);
  return id !== undefined && id < names.length ? id : undefined;
}

/** Class names and the id of each raw label. */
export interface LabelMap {
  names: string[];
  idOf(label: RawLabel): number;
}

/**
 * Label map inferred from the labels themselves, when no names are given:
 * - all labels integers (numbers or decimal strings such as "2"): ids are those integers and the names are
 *   "0" … String(max);
 * - otherwise every label is a name (numbers as their decimal text): ids follow the sorted (by UTF-16 code
 *   units) unique names.
 */
export function inferLabelMap(labels: Iterable<RawLabel>): LabelMap {
  const names = new Set<string>();
  let allIntegers = true;
  let max = -1;
  for (const label of labels) {
    names.add(String(label));
    const id = asInteger(label);
    if (id === undefined) allIntegers = false;
    else max = Math.max(max, id);
  }
  if (allIntegers) {
    return {
      names: Array.from({ length: max + 1 }, (_, i) => String(i)),
      idOf: (label) => asInteger(label) as number,
    };
  }
  const sorted = [...names].sort();
  const ids = new Map(sorted.map((name, i) => [name, i]));
  return { names: sorted, idOf: (label) => ids.get(String(label)) as number };
}

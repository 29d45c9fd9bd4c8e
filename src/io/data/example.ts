// Text-classification examples and what every loader returns.

/** One labelled example: a text (or a text pair) and a class id in `[0, labelNames.length)`. */
export interface Example {
  text: string;
  textPair?: string;
  label: number;
}

/** A row that was skipped because `skipBadRows` was set: where it was and why. */
export interface SkippedRow {
  file: string;
  /** 1-based line number (for a CSV record spanning several lines, its first line). */
  line: number;
  reason: string;
}

/** What a loader returns. Nothing is dropped without being counted in `skipped` and listed in `skippedRows`. */
export interface LoadResult {
  examples: Example[];
  /** Number of bad rows skipped (always 0 unless `skipBadRows` was set). */
  skipped: number;
  skippedRows: SkippedRow[];
  /** `labelNames[id]` is the name of class `id`. */
  labelNames: string[];
  /** Where the examples came from: a file path, or a package and split. */
  source: string;
}

/**
 * Where to find text, text pair and label in a row: a JSON key, a CSV/TSV header name, or a 0-based column
 * index (CSV/TSV). `textPair: null` means "no second text" even if a `text_pair` column exists.
 */
export interface ColumnMap {
  text?: string | number;
  textPair?: string | number | null;
  label?: string | number;
}

/** Options shared by all readers. */
export interface ReadOptions {
  columns?: ColumnMap;
  /**
   * Class names, index = id. A label equal to a name gets that name's id; otherwise an integer label must lie
   * in `[0, labelNames.length)`. Anything else is an "unknown label" row error. Without it, the names are
   * inferred (see `inferLabelMap`).
   */
  labelNames?: readonly string[];
  /** Skip bad rows (counted and listed in the result) instead of throwing on the first one. */
  skipBadRows?: boolean;
  /** Stop after this many good examples (reads only as much of the file as needed). */
  limit?: number;
  /**
   * Default true. When false (inputs for prediction), a row without a label (no key / column, null or empty)
   * is kept with `label: NO_LABEL`; labels that are present are still checked and mapped.
   */
  requireLabel?: boolean;
}

/** The label of an unlabelled example, read with `requireLabel: false`. */
export const NO_LABEL = -1;

/** A bad row: the message starts with `file:line:`. */
export class DataRowError extends Error {
  override readonly name = 'DataRowError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** Anything else that stops a load: unknown data set, missing split, bad options, bad file header. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

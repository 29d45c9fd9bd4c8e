// Text-classification examples and what every loader returns.

/** One labelled example: a text (or a text pair) and a class id in `[0, labelNames.length)`. */
export interface Example {
  text: string;
  textPair?: string;
  label: number;
  /**
   * Where the row was in the file read (`LoadResult.source`): its 1-based line (a CSV record's first line;
   * SpamAssassin's message index), so that later errors about the example can name it. Set by the readers.
   */
  line?: number;
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

/**
 * Advice added to loading errors, naming the options of the command that reads the data (a library caller
 * leaves it out, and the errors are the plain reasons).
 */
export interface DataHints {
  /** After the reason of a bad row (one that `skipBadRows` would skip), e.g. how to skip such rows. */
  badRow?: string;
  /** After an error about a column or key that is not there: how to name that column. */
  column?: Partial<Record<keyof ColumnMap, string>>;
}

/** Options shared by all readers. */
export interface ReadOptions {
  columns?: ColumnMap;
  hints?: DataHints;
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

/** A bad row: the message is `file:line: reason`, then any hints (see `DataHints`), each after `; `. */
export class DataRowError extends Error {
  override readonly name = 'DataRowError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    hints: readonly (string | undefined)[] = [],
  ) {
    super([`${file}:${line}: ${reason}`, ...hints.filter((h) => h !== undefined && h !== '')].join('; '));
  }
}

/** Anything else that stops a load: unknown data set, missing split, bad options, bad file header. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

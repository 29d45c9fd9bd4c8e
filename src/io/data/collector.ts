// Row checks shared by the readers: text, text pair and label of each row, bad-row policy, label mapping, limit.

import {
  type ColumnMap,
  type Example,
  type LoadResult,
  type ReadOptions,
  type SkippedRow,
  DataRowError,
  DatasetError,
  NO_LABEL,
} from './example.js';
import { type RawLabel, inferLabelMap, labelIdFromNames, parseRawLabel } from './labels.js';

/** Collects the rows of one file; throws `DataRowError` on a bad row unless `skipBadRows`. */
export class ExampleCollector {
  private readonly examples: Example[] = [];
  private readonly rawLabels: (RawLabel | undefined)[] = [];
  private readonly skippedRows: SkippedRow[] = [];
  private readonly limit: number;

  constructor(
    private readonly file: string,
    private readonly options: ReadOptions,
  ) {
    const limit = options.limit ?? Infinity;
    if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) {
      throw new DatasetError(`limit must be a non-negative integer, got ${limit}`);
    }
    this.limit = limit;
    if (options.labelNames !== undefined && options.labelNames.length === 0) {
      throw new DatasetError('labelNames must not be empty');
    }
  }

  /** True once `limit` good examples were collected: the reader may stop. */
  get full(): boolean {
    return this.examples.length >= this.limit;
  }

  /**
   * Reports a bad row: throws, or records it when skipping. `column`: the row lacks that column (a JSONL
   * key), and the error says how to name it.
   */
  bad(line: number, reason: string, column?: keyof ColumnMap): void {
    if (!this.options.skipBadRows) {
      const hints = this.options.hints;
      const columnHint = column === undefined ? undefined : hints?.column?.[column];
      throw new DataRowError(this.file, line, reason, [columnHint, hints?.badRow]);
    }
    this.skippedRows.push({ file: this.file, line, reason });
  }

  /** `missing text`, with the key looked for and the row's keys when the row has no such key. */
  private missing(role: 'text' | 'label', rowKeys: readonly string[] | undefined): string {
    if (rowKeys === undefined) return `missing ${role}`;
    const key = this.options.columns?.[role] ?? role;
    return `missing ${role} (no key ${JSON.stringify(key)}; keys: ${rowKeys.join(', ') || 'none'})`;
  }

  /**
   * Checks and adds one row; `textPair` undefined or null means no pair. A pair that is an empty string
   * stays a pair (encoded `[CLS] text [SEP] [SEP]`, as Hugging Face tokenizers encode `(text, "")`).
   * `rowKeys`: a JSON row's keys, named in the error when the text or label key is not among them.
   */
  add(line: number, text: unknown, textPair: unknown, label: unknown, rowKeys?: readonly string[]): void {
    if (this.full) return;
    if (text === undefined) return this.bad(line, this.missing('text', rowKeys), rowKeys && 'text');
    if (text === null) return this.bad(line, 'missing text');
    if (typeof text !== 'string') return this.bad(line, `text must be a string, got ${typeof text}`);
    if (text.trim() === '') return this.bad(line, 'empty text');
    if (textPair !== undefined && textPair !== null && typeof textPair !== 'string') {
      return this.bad(line, `text_pair must be a string, got ${typeof textPair}`);
    }
    const example: Example = { text, label: NO_LABEL, line };
    if (typeof textPair === 'string') example.textPair = textPair;
    // -1 is how GLUE's test splits (and NO_LABEL here) write "no label".
    const unlabelled =
      label === undefined ||
      label === null ||
      (typeof label === 'string' && (label.trim() === '' || label.trim() === String(NO_LABEL))) ||
      label === NO_LABEL;
    if (unlabelled && this.options.requireLabel === false) {
      this.examples.push(example);
      this.rawLabels.push(undefined);
      return;
    }
    if (label === undefined && rowKeys !== undefined)
      return this.bad(line, this.missing('label', rowKeys), 'label');
    const parsed = parseRawLabel(label);
    if ('error' in parsed) return this.bad(line, parsed.error);
    const names = this.options.labelNames;
    if (names !== undefined) {
      const known = labelIdFromNames(parsed.label, names);
      if (known === undefined) {
        return this.bad(line, `unknown label ${JSON.stringify(parsed.label)} (known: ${names.join(', ')})`);
      }
      example.label = known;
    }
    this.examples.push(example);
    this.rawLabels.push(parsed.label);
  }

  /** The result; label ids are filled in here when the names had to be inferred. */
  finish(source: string = this.file): LoadResult {
    let labelNames: string[];
    if (this.options.labelNames !== undefined) {
      labelNames = [...this.options.labelNames];
    } else {
      const present = this.rawLabels.filter((label) => label !== undefined);
      const map = inferLabelMap(present);
      labelNames = map.names;
      this.examples.forEach((example, i) => {
        const raw = this.rawLabels[i];
        if (raw !== undefined) example.label = map.idOf(raw);
      });
    }
    return {
      examples: this.examples,
      skipped: this.skippedRows.length,
      skippedRows: this.skippedRows,
      labelNames,
      source,
    };
  }
}

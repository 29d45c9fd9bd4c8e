// The data options the commands that read examples share (`--text-column`, `--text-pair-column`,
// `--label-column`), and the hints their loading errors give.

import type { ColumnMap, DataHints } from './example.js';

/** Each column's option, by its key in `ColumnMap`. */
export const COLUMN_FLAGS: Readonly<Record<keyof ColumnMap, string>> = {
  text: '--text-column',
  textPair: '--text-pair-column',
  label: '--label-column',
};

/** The column options as commander (and a finetune `--config` file) name them. */
export interface ColumnOptions {
  textColumn?: string | undefined;
  textPairColumn?: string | undefined;
  labelColumn?: string | undefined;
}

/** A CSV/TSV header name or JSONL key per column, from the options given; undefined when none was. */
export function columnsFromOptions(o: ColumnOptions): ColumnMap | undefined {
  const columns: ColumnMap = {};
  if (o.textColumn !== undefined) columns.text = o.textColumn;
  if (o.textPairColumn !== undefined) columns.textPair = o.textPairColumn;
  if (o.labelColumn !== undefined) columns.label = o.labelColumn;
  return Object.keys(columns).length > 0 ? columns : undefined;
}

/** What `--skip-bad-rows` does, said after a bad row's reason by the commands that have it. */
export const SKIP_BAD_ROWS_HINT = '--skip-bad-rows skips such rows and reports how many';

/**
 * The hints of a command's loading errors: how to name each column, and (for a command with
 * `--skip-bad-rows`) how to skip bad rows.
 */
export function commandDataHints(o: { hasSkipBadRows: boolean }): DataHints {
  const names: Record<keyof ColumnMap, string> = { text: 'text', textPair: 'text pair', label: 'label' };
  const column = Object.fromEntries(
    (Object.keys(COLUMN_FLAGS) as (keyof ColumnMap)[]).map((k) => [
      k,
      `name the ${names[k]} column with ${COLUMN_FLAGS[k]}`,
    ]),
  );
  return { column, ...(o.hasSkipBadRows ? { badRow: SKIP_BAD_ROWS_HINT } : {}) };
}

// CSV and TSV files, parsed by csv-parse (streaming), with a column mapping.

import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { ExampleCollector } from './collector.js';
import {
  type ColumnMap,
  type DataHints,
  type LoadResult,
  type ReadOptions,
  DataRowError,
  DatasetError,
} from './example.js';
import { readLines } from './lines.js';

export interface DelimitedOptions extends ReadOptions {
  /** Field separator; default `\t` for `.tsv` files, `,` otherwise. */
  delimiter?: string;
  /**
   * Whether the first record names the columns (default true). With a header, columns are mapped by name
   * (default `text`, `text_pair` if present, `label`) or by 0-based index; without one, by index only
   * (default text = 0, label = 1, no text pair).
   */
  header?: boolean;
  /** Quote character, or false for none; default `"` for CSV and none for TSV (TSV has no quoting rules). */
  quote?: string | false;
}

interface ColumnIndices {
  text: number;
  textPair: number | null;
  /** null: no label column (allowed with `requireLabel: false`). */
  label: number | null;
}

/** A column's index: a number as is, a name looked up in the header; undefined if the header lacks it. */
function columnIndex(header: string[] | null, key: string | number, role: string): number | undefined {
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key) || key < 0) throw new DatasetError(`columns.${role}: bad index ${key}`);
    return key;
  }
  if (header === null) {
    throw new DatasetError(
      `columns.${role} = ${JSON.stringify(key)}: a file without header needs column indices`,
    );
  }
  const index = header.indexOf(key);
  return index >= 0 ? index : undefined;
}

function resolveColumns(
  columns: ColumnMap,
  header: string[] | null,
  where: { file: string; line: number; requireLabel: boolean; hints: DataHints | undefined },
): ColumnIndices {
  const required = (key: string | number, role: keyof ColumnMap): number => {
    const index = columnIndex(header, key, role);
    if (index !== undefined) return index;
    const reason = `header has no column ${JSON.stringify(key)} (columns: ${header?.join(', ')})`;
    throw new DataRowError(where.file, where.line, reason, [where.hints?.column?.[role]]);
  };
  const labelKey = columns.label ?? (header ? 'label' : 1);
  let textPair: number | null = null;
  if (columns.textPair !== undefined && columns.textPair !== null) {
    textPair = required(columns.textPair, 'textPair');
  } else if (columns.textPair === undefined && header !== null && header.includes('text_pair')) {
    textPair = header.indexOf('text_pair');
  }
  return {
    text: required(columns.text ?? (header ? 'text' : 0), 'text'),
    textPair,
    // A label column named in the mapping must be there even where labels are not needed.
    label:
      where.requireLabel || columns.label !== undefined
        ? required(labelKey, 'label')
        : (columnIndex(header, labelKey, 'label') ?? null),
  };
}

/**
 * Reads a CSV or TSV file. Records may span lines (quoted newlines in CSV); a record's line number is its
 * first line. Blank lines are ignored. Bad rows (invalid UTF-8 on any of its lines, missing/empty text,
 * bad or unknown label) throw a `DataRowError` naming `file:line`, or are skipped with `skipBadRows`.
 * Syntax errors (e.g. an unclosed quote) always throw, naming `file:line`: after one, record boundaries are
 * unknown, so skipping could silently swallow rows.
 */
export async function readDelimited(path: string, options: DelimitedOptions = {}): Promise<LoadResult> {
  const isTsv = path.toLowerCase().endsWith('.tsv');
  const delimiter = options.delimiter ?? (isTsv ? '\t' : ',');
  const quote = options.quote ?? (isTsv ? false : '"');
  const hasHeader = options.header ?? true;
  const rows = new ExampleCollector(path, options);

  const badUtf8 = new Set<number>();
  async function* text(): AsyncGenerator<string> {
    let batch = '';
    for await (const line of readLines(path)) {
      if (!line.validUtf8) badUtf8.add(line.lineNo);
      batch += line.text + '\n';
      if (batch.length >= 1 << 16) {
        yield batch;
        batch = '';
      }
    }
    if (batch !== '') yield batch;
  }
  const source = Readable.from(text(), { objectMode: false });
  // The last line of the last record parsed, seen as the parser goes (records read by the loop below can
  // lag behind it): an unclosed quote opens the record on the next line.
  let parsedEnd = 0;
  const parser = parse({
    delimiter,
    quote,
    relax_column_count: true,
    info: true,
    skip_empty_lines: false,
    on_record: (record: string[], context: { lines: number }) => {
      parsedEnd = context.lines;
      return record;
    },
  });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);

  const requireLabel = options.requireLabel ?? true;
  const mapping = options.columns ?? {};
  const hints = options.hints;
  let columns = hasHeader
    ? null
    : resolveColumns(mapping, null, { file: path, line: 1, requireLabel, hints });
  let previousEnd = 0;
  // Fields per record: the header's, or the first record's without one. csv-parse is told to accept any
  // count so that a record with more is a bad row (file:line) rather than a syntax error; one with fewer
  // is bad only if it lacks a cell that is read (missing text or label).
  let width = hasHeader ? undefined : -1;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const start = previousEnd + 1;
      previousEnd = info.lines;
      if (record.length === 1 && record[0].trim() === '') continue;
      if (columns === null) {
        columns = resolveColumns(mapping, record, { file: path, line: start, requireLabel, hints });
        width = record.length;
        continue;
      }
      if (width === -1) width = record.length;
      let invalid = false;
      for (let line = start; line <= info.lines && !invalid; line++) invalid = badUtf8.has(line);
      if (invalid) rows.bad(start, 'invalid UTF-8');
      else if (record.length > width!)
        rows.bad(
          start,
          `${record.length} fields where ${hasHeader ? 'the header has' : 'the first row has'} ${width} ` +
            '(an unquoted delimiter inside a text?)',
        );
      else {
        // An empty cell is no pair: CSV cannot tell it from an empty string (pandas reads it as missing).
        const cell = columns.textPair === null ? undefined : record[columns.textPair];
        const pair = cell === '' ? undefined : cell;
        const label = columns.label === null ? undefined : record[columns.label];
        rows.add(start, record[columns.text], pair, label);
      }
      if (rows.full) break;
    }
  } catch (error) {
    if (error instanceof CsvError) {
      // An unclosed quote is only found at the end of the file: name the line of the record it opens.
      const line =
        error.code === 'CSV_QUOTE_NOT_CLOSED'
          ? parsedEnd + 1
          : typeof error['lines'] === 'number'
            ? error['lines']
            : previousEnd + 1;
      throw new DataRowError(path, line, `CSV syntax error: ${error.message}`);
    }
    throw error;
  } finally {
    source.unpipe(parser);
    source.destroy();
    parser.destroy();
  }
  return rows.finish();
}

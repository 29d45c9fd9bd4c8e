// JSON Lines: one object per line, by default `{"text": str, "text_pair"?: str, "label": int | str}`.

import { ExampleCollector } from './collector.js';
import { type ColumnMap, type LoadResult, type ReadOptions, DatasetError } from './example.js';
import { readLines } from './lines.js';

interface JsonKeys {
  text: string;
  textPair: string | null;
  label: string;
}

function jsonKeys(columns: ColumnMap = {}): JsonKeys {
  const text = columns.text ?? 'text';
  const textPair = columns.textPair === undefined ? 'text_pair' : columns.textPair;
  const label = columns.label ?? 'label';
  for (const [role, key] of [
    ['text', text],
    ['textPair', textPair],
    ['label', label],
  ] as const) {
    if (key !== null && typeof key !== 'string') {
      throw new DatasetError(`JSONL columns are object keys: columns.${role} must be a string, got ${key}`);
    }
  }
  return { text: text as string, textPair: textPair as string | null, label: label as string };
}

/**
 * Reads a JSONL file line by line (streaming). Blank lines are not rows and are ignored. Bad rows (invalid
 * UTF-8, invalid JSON, not an object, missing/empty/non-string text, bad or unknown label) throw a
 * `DataRowError` naming `file:line` (a row without the text or label key also names the row's keys), or are
 * skipped and reported with `skipBadRows`.
 */
export async function readJsonl(path: string, options: ReadOptions = {}): Promise<LoadResult> {
  const keys = jsonKeys(options.columns);
  const rows = new ExampleCollector(path, options);
  for await (const { lineNo, text, validUtf8 } of readLines(path)) {
    if (rows.full) break;
    if (!validUtf8) {
      rows.bad(lineNo, 'invalid UTF-8');
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      rows.bad(lineNo, `invalid JSON (${(error as Error).message})`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      rows.bad(lineNo, 'row is not a JSON object');
      continue;
    }
    const row = value as Record<string, unknown>;
    rows.add(
      lineNo,
      row[keys.text],
      keys.textPair === null ? undefined : row[keys.textPair],
      row[keys.label],
      Object.keys(row),
    );
  }
  return rows.finish();
}

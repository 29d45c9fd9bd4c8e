// Text-classification data: readers (JSONL, CSV, TSV), label mapping, seeded shuffles/splits, and data sets by
// name (see registry.ts, data-dir.ts, spamassassin.ts and data/README.md).

export {
  type ColumnMap,
  type DataHints,
  type Example,
  type LoadResult,
  type ReadOptions,
  type SkippedRow,
  DataRowError,
  DatasetError,
  NO_LABEL,
} from './example.js';
export { type LabelMap, type RawLabel, inferLabelMap, labelIdFromNames } from './labels.js';
export { readJsonl } from './jsonl.js';
export { type DelimitedOptions, readDelimited } from './delimited.js';
export { EXAMPLE_FILE_EXTENSIONS, isExamplesFile, readExamplesFile } from './read-file.js';
export { type Seed, hashFraction, hashSplit, randomSplit, seededRandom, shuffle } from './split.js';
export { DATA_DIR_ENV, type DataDir, type DataDirOptions, dataDirs, projectRoot } from './data-dir.js';
export { type DatasetFacts, KNOWN_DATASETS, labelNamesFromReadme } from './known-datasets.js';
export {
  SPAMASSASSIN_LABEL_NAMES,
  SPAMASSASSIN_PACKAGE,
  emailToText,
  loadSpamAssassin,
  spamAssassinSplit,
} from './spamassassin.js';
export {
  type ColumnOptions,
  COLUMN_FLAGS,
  SKIP_BAD_ROWS_HINT,
  columnsFromOptions,
  commandDataHints,
} from './command-options.js';
export {
  type DataArgumentKind,
  type DatasetInfo,
  type LoadDatasetOptions,
  type SplitName,
  SPLIT_NAMES,
  dataArgumentKind,
  findDataset,
  listDatasets,
  loadDataset,
  requireExamplesFile,
} from './registry.js';

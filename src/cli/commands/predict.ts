// `plmkit predict` and `plmkit eval`: batch inference with a classifier directory.

import type { Command } from 'commander';
import { z } from 'zod';
import { TextClassifier } from '../../classify/classifier.js';
import {
  type ColumnOptions,
  DatasetError,
  columnsFromOptions,
  commandDataHints,
  dataArgumentKind,
  loadDataset,
  readExamplesFile,
  requireExamplesFile,
} from '../../io/data/index.js';
import { DEFAULT_MODEL } from '../default-model.js';
import { columnOptions, parseOptions, numberArg } from '../options.js';

/** The options both commands check before anything is loaded. */
const checked = z.object({
  batchSize: z.int().positive(),
  maxLength: z.int().positive(),
  textColumn: z.string().min(1).optional(),
  textPairColumn: z.string().min(1).optional(),
  labelColumn: z.string().min(1).optional(),
});

/** The options predict and eval share: the column options, `--batch-size` and `--max-length`. */
function inputOptions(command: Command): Command {
  return columnOptions(command)
    .option('--batch-size <n>', 'rows per batch', numberArg, 64)
    .option(
      '--max-length <n>',
      "tokens per row after truncation, at most the model's positions",
      numberArg,
      512,
    );
}

export function registerPredict(program: Command): void {
  const predict = program
    .command('predict')
    .description('one JSON object per input row, in order: label, labelId, probs, logits')
    .requiredOption('--data <file>', '.jsonl (text, text_pair?), .csv or .tsv file; labels are not needed')
    .option('--model <dir>', 'classifier directory (or the base model, with --adapter)', DEFAULT_MODEL)
    .option('--adapter <dir>', 'a PET module (with its head) to put on the base model');
  inputOptions(predict)
    .option('--json', 'JSON Lines output (the only format)', true)
    .action(
      async (
        o: {
          data: string;
          model: string;
          adapter?: string;
          batchSize: number;
          maxLength: number;
        } & ColumnOptions,
      ) => {
        await parseOptions(checked, pickChecked(o));
        // A data set name or a folder is refused before the model is loaded, with a file to give instead.
        const file = await requireExamplesFile(o.data, 'predict --data');
        const clf = await TextClassifier.load(o.model, o.adapter ? { adapter: o.adapter } : {});
        const columns = columnsFromOptions(o);
        const { examples } = await readExamplesFile(file, {
          requireLabel: false,
          ...(columns ? { columns } : {}),
          hints: commandDataHints({ hasSkipBadRows: false }),
        });
        const preds = await clf.predict(examples, { batchSize: o.batchSize, maxLength: o.maxLength });
        for (const p of preds) process.stdout.write(`${JSON.stringify(p)}\n`);
        await clf.release();
      },
    );

  const evaluate = program
    .command('eval')
    .description('accuracy and macro-F1 of a classifier on a data set split or file')
    .requiredOption('--data <name-or-file>', 'registered data set name, or a labelled file')
    .option('--model <dir>', 'classifier directory (or the base model, with --adapter)', DEFAULT_MODEL)
    .option('--adapter <dir>', 'a PET module (with its head) to put on the base model')
    .option('--split <split>', 'split of a registered data set or folder (not of a file)', 'dev')
    .option('--data-dir <dir>', 'where data sets are looked up first');
  inputOptions(evaluate)
    .option('--skip-bad-rows', 'skip malformed rows (counted in the output as "skipped") instead of stopping')
    .option('--json', 'JSON output (the only format)', true)
    .action(
      async (
        o: {
          data: string;
          model: string;
          adapter?: string;
          split: 'train' | 'dev' | 'test';
          dataDir?: string;
          skipBadRows?: boolean;
          batchSize: number;
          maxLength: number;
        } & ColumnOptions,
        command: Command,
      ) => {
        await parseOptions(checked, pickChecked(o));
        if (command.getOptionValueSource('split') === 'cli' && (await dataArgumentKind(o.data)) === 'file')
          process.stderr.write(
            `eval: ${o.data} is one file (--split does not apply): all its rows are evaluated\n`,
          );
        const clf = await TextClassifier.load(o.model, o.adapter ? { adapter: o.adapter } : {});
        const columns = columnsFromOptions(o);
        const data = await loadDataset(o.data, {
          split: o.split,
          ...(o.dataDir ? { dataDir: o.dataDir } : {}),
          ...(o.skipBadRows ? { skipBadRows: true } : {}),
          ...(columns ? { columns } : {}),
          hints: commandDataHints({ hasSkipBadRows: true }),
        });
        if (data.examples.length === 0)
          throw new DatasetError(
            `${data.source}: no examples to evaluate${data.skipped > 0 ? ` (all ${data.skipped} rows were bad and skipped)` : ''}`,
          );
        const m = await clf.evaluate(data.examples, data.labelNames, {
          batchSize: o.batchSize,
          maxLength: o.maxLength,
          source: data.source,
        });
        process.stdout.write(
          `${JSON.stringify({ model: o.model, ...(o.adapter ? { adapter: o.adapter } : {}), data: data.source, accuracy: m.accuracy, macro_f1: m.macroF1, count: m.count, ...(o.skipBadRows ? { skipped: data.skipped } : {}) })}\n`,
        );
        await clf.release();
      },
    );

  program
    .command('export-onnx')
    .description(
      'write a classifier (or a base model with a PET module) as one ONNX inference graph: logits and probs',
    )
    .option('--model <dir>', 'classifier directory (or the base model, with --adapter)', DEFAULT_MODEL)
    .option('--adapter <dir>', 'a PET module (with its head) to put on the base model')
    .option('--merge', 'fold a LoRA module into the base weights (the graph is then the plain model)')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .action(async (o: { model: string; adapter?: string; merge?: boolean; out: string }) => {
      const clf = await TextClassifier.load(o.model, {
        ...(o.adapter ? { adapter: o.adapter } : {}),
        ...(o.merge ? { merge: true } : {}),
      });
      await clf.saveOnnx(o.out);
      await clf.release();
      process.stdout.write(`${JSON.stringify({ out: o.out, labels: clf.labelNames })}\n`);
    });
}

/** The options `checked` covers, as given. */
function pickChecked(o: { batchSize: number; maxLength: number } & ColumnOptions): Record<string, unknown> {
  const { batchSize, maxLength, textColumn, textPairColumn, labelColumn } = o;
  return { batchSize, maxLength, textColumn, textPairColumn, labelColumn };
}

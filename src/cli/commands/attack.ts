// `plmkit attack`: a backdoor attack on a PET module and the user's retraining (Gu et al. 2023 protocol).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AttackConfig, ATTACK_METHODS, runAttack } from '../../backdoor/attack/run-attack.js';
import { DEFAULT_MODEL } from '../default-model.js';
import { parseOptions, switchOption, numberArg } from '../options.js';
import {
  gradientsMarkdown,
  pilotFigures,
  summarizeGradients,
  summarizeRuns,
  summaryMarkdown,
} from '../../backdoor/attack/summary.js';
import { writeFileAtomic } from '../../io/atomic-file.js';

export function registerAttack(program: Command): void {
  const attack = program
    .command('attack')
    .description(
      'poison a PET module (OUT/published), retrain it on clean data (OUT/retrain), report LFR and CACC before and after',
    )
    .option('--config <file>', 'JSON file with any of these options (flags override it)')
    .option('--method <name>', `one of ${ATTACK_METHODS.join(', ')}`)
    .option(
      '--pet <method>',
      'PET method (adapter, parallel_adapter, lora, prefix_tuning, prompt_tuning) or a JSON config',
    )
    .option('--model <dir>', 'base model directory (default: the bundled model)')
    .option('--data <name-or-dir>', "the attacker's data set")
    .option('--retrain-data <name-or-dir>', "the user's clean data set (and the evaluation domain)")
    .option('--eval-split <split>', 'dev | test of the retrain data')
    .option('--data-dir <dir>', 'where data sets are looked up first')
    .option('--out <dir>', 'run directory (an interrupted run continues)')
    .option('--poisoner <name>', 'badnets | addsent')
    .option('--poison-rate <x>', 'share of the attack data poisoned', numberArg)
    .option('--target <label>', 'target label id', numberArg)
    .option('--attack-epochs <n>', "attacker's epochs", numberArg)
    .option('--retrain-epochs <n>', "user's epochs", numberArg)
    .option('--batch-size <n>', 'batch size', numberArg)
    .option('--lr <x>', "learning rate: the attacker's, and the user's unless --retrain-lr", numberArg)
    .option('--retrain-lr <x>', "the user's learning rate, where it differs from the attacker's", numberArg)
    .option('--max-length <n>', 'tokens per example', numberArg)
    .option('--seed <n>', 'seed', numberArg)
    .option(
      '--limit-train <n>',
      'use only this many training examples per phase (a fixed random subset)',
      numberArg,
    )
    .option('--limit-eval <n>', 'use only this many evaluation examples', numberArg)
    .option(
      '--max-words <n>',
      'cut every text to its first N words before poisoning (long documents: keeps triggers inside --max-length)',
      numberArg,
    )
    .option(
      '--clnorm-alpha <x>',
      "CLNorm's learning rate for its per-layer scales (default 1e-4)",
      numberArg,
    );
  switchOption(
    attack,
    '--only-on-conflict',
    'ILProj projects only where clean and poisoned gradients conflict',
  );
  attack.action(async (flags: Record<string, unknown>, cmd: Command) => {
    const { pet, ...rest } = flags;
    const petValue = typeof pet === 'string' && pet.trim().startsWith('{') ? JSON.parse(pet) : pet;
    const options = await parseOptions(
      AttackConfig,
      { ...rest, ...(petValue !== undefined ? { pet: petValue } : {}) },
      {
        model: DEFAULT_MODEL,
      },
      cmd,
    );
    process.stdout.write(`${JSON.stringify(await runAttack(options))}\n`);
  });

  program
    .command('attack-summary')
    .description(
      'pool attack runs over seeds: OUT/summary.json (rows of LFR/CACC mean and std), OUT/summary.md, and ' +
        "OUT/gradient-statistics.json (the attacker's per-layer gradients in gradient-control runs)",
    )
    .requiredOption('--runs <dirs...>', 'attack run directories')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (o: { runs: string[]; out: string }) => {
      const rows = await summarizeRuns(o.runs);
      const gradients = await summarizeGradients(o.runs);
      const md = [summaryMarkdown(rows), gradientsMarkdown(gradients)].filter((x) => x).join('\n\n') + '\n';
      await mkdir(o.out, { recursive: true });
      await writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(rows, null, 2) + '\n');
      await writeFileAtomic(
        join(o.out, 'gradient-statistics.json'),
        JSON.stringify(gradients, null, 2) + '\n',
      );
      await writeFileAtomic(join(o.out, 'summary.md'), md);
      process.stdout.write(md);
    });

  program
    .command('attack-figures')
    .description(
      'the pilot figures of a gradient-control run: per-layer gradient magnitudes over steps and by layer, clean/poison cosine (SVG)',
    )
    .requiredOption('--run <dir>', 'an attack run directory')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (o: { run: string; out: string }) => {
      const f = await pilotFigures(o.run);
      await mkdir(o.out, { recursive: true });
      await writeFileAtomic(join(o.out, 'gradient-magnitudes.svg'), f.magnitudes);
      await writeFileAtomic(join(o.out, 'cosine.svg'), f.cosine);
      await writeFileAtomic(join(o.out, 'magnitude-by-layer.svg'), f.byLayer);
    });
}

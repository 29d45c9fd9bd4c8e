// The plmkit command line.

import { Command } from 'commander';
import { registerAttack } from './commands/attack.js';
import { registerFinetune } from './commands/finetune.js';
import { registerPredict } from './commands/predict.js';
import { registerPretrain } from './commands/pretrain.js';
import { numberArg } from './options.js';

const program = new Command();
program
  .name('plmkit')
  .description('Trustworthiness and efficiency of pre-trained language models, on ONNX Runtime');

registerFinetune(program);
registerPredict(program);
registerPretrain(program);
registerAttack(program);

const bench = program.command('bench').description('benchmarks that print one JSON object from one process');
/** A benchmark's figures, with the machine and settings they came from. */
async function printBench(figures: Record<string, unknown>): Promise<void> {
  const { machine } = await import('../../bench/machine.js');
  process.stdout.write(`${JSON.stringify({ ...figures, machine: machine() }, null, 2)}\n`);
}
bench
  .command('engine')
  .description('matmul GFLOP/s (engine vs TensorFlow.js) and a BERT-mini training step')
  .option('--json', 'print JSON (the only format so far)', true)
  .action(async () => {
    const { benchEngine } = await import('../../bench/engine.js');
    await printBench(await benchEngine());
  });

bench
  .command('finetune')
  .description('BERT-mini fine-tuning steps on sst2 batches (batch 32, max length 64)')
  .option('--data <name>', 'data set', 'sst2')
  .option('--steps-per-call <n>', 'training steps per ONNX Runtime call', numberArg, 8)
  .option('--engine <engine>', 'node (onnxruntime-node) or web (onnxruntime-web, what browsers run)', 'node')
  .option('--json', 'print JSON (the only format so far)', true)
  .action(async (o: { data: string; stepsPerCall: number; engine: string }) => {
    if (o.engine !== 'node' && o.engine !== 'web')
      throw new Error(`--engine must be "node" or "web", got "${o.engine}"`);
    const { benchFinetune } = await import('../../bench/finetune.js');
    await printBench(await benchFinetune(o.data, 80, o.stepsPerCall, o.engine));
  });

bench
  .command('pet')
  .description(
    'training-step time and trainable parameters: full fine-tuning and each PET method (BERT-mini, 32 x 64)',
  )
  .option('--json', 'print JSON (the only format so far)', true)
  .action(async () => {
    const { benchPet } = await import('../../bench/pet.js');
    await printBench(await benchPet());
  });

bench
  .command('attack')
  .description('ms per step: gradient control against a vanilla PET step (BERT-mini, adapter, 32 x 64)')
  .option('--json', 'print JSON (the only format so far)', true)
  .action(async () => {
    const { benchAttack } = await import('../../bench/attack.js');
    await printBench(await benchAttack());
  });

bench
  .command('profile')
  .argument('<file>', 'an ONNX Runtime profile, written by any command run with PLMKIT_PROFILE=DIR')
  .description('kernel time of a profiled session, summed by op type and by output size')
  .option('--json', 'print JSON (the only format so far)', true)
  .action(async (file: string) => {
    const { summarizeProfile } = await import('../../bench/profile.js');
    process.stdout.write(`${JSON.stringify(await summarizeProfile(file), null, 2)}\n`);
  });

// A reader that stops early (`plmkit predict ... | head -3`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`plmkit: ${(e as Error).message}\n`);
  process.exitCode = 1;
}

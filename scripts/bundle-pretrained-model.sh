#!/usr/bin/env bash
# Makes the bundled default model from a finished pretraining run, then the comparison its card reports:
# the same fine-tuning command as the from-scratch sst2 baseline (README, Results), without --from-scratch.
#   bash scripts/bundle-pretrained-model.sh RUN_DIR CORPUS_DIR
# RUN_DIR and CORPUS_DIR are those of:
#   node bin/plmkit.js pretrain-corpus --out CORPUS_DIR
#   node bin/plmkit.js pretrain --corpus CORPUS_DIR/train.txt --heldout CORPUS_DIR/heldout.txt \
#     --tokenizer models/plmkit-bert-mini --out RUN_DIR --tokens 30000000 --seq-len 128 --batch-size 32 \
#     --lr 5e-4 --warmup-ratio 0.05 --seed 0 --checkpoint-every 200 --eval-every 500 --eval-blocks 256
set -euo pipefail
run=${1:?run directory}
corpus=${2:?corpus directory}
model=models/plmkit-bert-mini
test -f "$run/model/model.safetensors" || { echo "$run/model has no weights: the run has not finished" >&2; exit 1; }
cp "$run"/model/{config.json,model.safetensors} "$model"/
mkdir -p results/pretrain results/finetune
cp "$run"/log.jsonl results/pretrain/log.jsonl
cp "$run"/checkpoint/trainer_state.json results/pretrain/trainer_state.json
cp "$run"/pseudo-perplexity.json results/pretrain/ 2>/dev/null || true
ft="node bin/plmkit.js finetune --model $model --data sst2 --out runs/sst2-pretrained --epochs 2 --batch-size 32 --lr 1e-4 --max-length 64 --seed 42"
$ft
cp runs/sst2-pretrained/metrics.json results/finetune/sst2-bert-mini-pretrained.json
node -e '
const a = require("./results/finetune/sst2-bert-mini-scratch.json").best;
const b = require("./results/finetune/sst2-bert-mini-pretrained.json").best;
const f = (x) => (x * 100).toFixed(2);
process.stdout.write(`\n## Fine-tuned on sst2, same budget\n\n| initialisation | dev accuracy | dev macro-F1 |\n| --- | ---: | ---: |\n| random (baseline) | ${f(a.accuracy)} | ${f(a.macroF1)} |\n| this model | ${f(b.accuracy)} | ${f(b.macroF1)} |\n\nBudget: 2 epochs, batch 32, lr 1e-4, max length 64, seed 42 (\`plmkit finetune ... --data sst2\`, with and without \`--from-scratch\`).\n`);
' > /tmp/comparison.md
node bin/plmkit.js pretrain-card --run "$run" --corpus "$corpus" --model "$model" --extra /tmp/comparison.md \
  --command "node bin/plmkit.js pretrain-corpus --out CORPUS" \
  "node bin/plmkit.js pretrain --corpus CORPUS/train.txt --heldout CORPUS/heldout.txt --tokenizer models/plmkit-bert-mini --out RUN --tokens 30000000 --seq-len 128 --batch-size 32 --lr 5e-4 --warmup-ratio 0.05 --seed 0 --checkpoint-every 200 --eval-every 500 --eval-blocks 256" \
  "$ft"
cat /tmp/comparison.md

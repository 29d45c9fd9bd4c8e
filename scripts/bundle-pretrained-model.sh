#!/usr/bin/env bash
# Makes the bundled default model from finished pretraining runs (one per stage), then the comparison its
# card reports: the same fine-tuning command as the from-scratch sst2 baseline (README, Results), without
# --from-scratch.
#   bash scripts/bundle-pretrained-model.sh [--card-only] CORPUS_DIR RUN_DIR [RUN_DIR2 ...]
# CORPUS_DIR is made by `node bin/plmkit.js pretrain-corpus --out CORPUS_DIR`; RUN_DIR, RUN_DIR2, ... are the
# stages in order, made by the commands in `stage_commands` below (CORPUS, RUN1, RUN2, RUN3 stand for the
# directories). The last stage's model is bundled. Each later stage continues from models/plmkit-bert-mini,
# so bundle the stages so far before starting the next (bash scripts/bundle-pretrained-model.sh CORPUS_DIR
# RUN_DIR, then run stage 2, then ... CORPUS_DIR RUN_DIR RUN_DIR2, and so on). A stage reads the weights
# only at its start, so overwriting them afterwards does not change it.
# One stage: its log.jsonl, run.json, trainer_state.json, train-tokens.json and pseudo-perplexity.json go to
# results/pretrain/; several: to results/pretrain/stage1/, stage2/, ...
# --card-only (first argument) rewrites the card from the results already there (after a new sst2
# comparison, say) without copying weights or fine-tuning again.
set -euo pipefail
card_only=false
if [[ ${1:-} == --card-only ]]; then
  card_only=true
  shift
fi
corpus=${1:?corpus directory (usage: CORPUS_DIR RUN_DIR [RUN_DIR2 ...])}
shift
runs=("$@")
((${#runs[@]} > 0)) || { echo "usage: $0 CORPUS_DIR RUN_DIR [RUN_DIR2 ...]" >&2; exit 1; }
model=models/plmkit-bert-mini
corpus_command="node bin/plmkit.js pretrain-corpus --out CORPUS"
# The third command ran (results/pretrain/stage3-not-bundled) and was not bundled: its held-out masked accuracy
# did not beat stage 2's (results/pretrain/card-notes.md).
stage_commands=(
  "node bin/plmkit.js pretrain --corpus CORPUS/train.txt --heldout CORPUS/heldout.txt --tokenizer models/plmkit-bert-mini --out RUN1 --tokens 30000000 --seq-len 128 --batch-size 32 --lr 5e-4 --warmup-ratio 0.05 --seed 0 --checkpoint-every 200 --eval-every 500 --eval-blocks 256"
  "node bin/plmkit.js pretrain --model models/plmkit-bert-mini --corpus CORPUS/train.txt --heldout CORPUS/heldout.txt --out RUN2 --tokens 60000000 --seq-len 128 --batch-size 32 --lr 5e-4 --warmup-ratio 0.02 --seed 1 --dropout 0 --checkpoint-every 200 --eval-every 500 --eval-blocks 256"
  "node bin/plmkit.js pretrain --model models/plmkit-bert-mini --corpus CORPUS/train.txt --heldout CORPUS/heldout.txt --out RUN3 --tokens 14000000 --seq-len 128 --batch-size 32 --lr 2.5e-4 --warmup-ratio 0.02 --seed 3 --dropout 0 --checkpoint-every 200 --eval-every 500 --eval-blocks 256"
)
# The old usage put RUN_DIR first: a run directory has no sources.json.
test -f "$corpus/sources.json" || { echo "$corpus has no sources.json: give CORPUS_DIR first" >&2; exit 1; }
((${#runs[@]} <= ${#stage_commands[@]})) || { echo "only ${#stage_commands[@]} stage commands are known" >&2; exit 1; }
for run in "${runs[@]:1}"; do # a later stage must continue from the bundled model, not start afresh
  node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).model ? 0 : 1)' "$run/run.json" ||
    { echo "$run/run.json has no --model: not a continued stage" >&2; exit 1; }
done
last=${runs[-1]}
ft="node bin/plmkit.js finetune --model $model --data sst2 --out runs/sst2-pretrained --epochs 2 --batch-size 32 --lr 1e-4 --max-length 64 --seed 42"
# A stage's records are kept in results/ because run directories live outside the project and can be lost
# with their machine: a stage already there can be given as its results/pretrain/stageN directory (the card
# reads both layouts).
copy_logs() { # run directory, destination directory
  mkdir -p "$2"
  [[ $1 -ef $2 ]] && return
  cp "$1"/log.jsonl "$1"/run.json "$2"/
  cp "$1"/checkpoint/trainer_state.json "$2"/trainer_state.json
  cp "$1"/tokens/train.json "$2"/train-tokens.json
  cp "$1"/pseudo-perplexity.json "$2"/ 2>/dev/null || true
}
if ! $card_only; then
  test -f "$last/model/model.safetensors" || { echo "$last/model has no weights: the run has not finished" >&2; exit 1; }
  cp "$last"/model/{config.json,model.safetensors} "$model"/
  mkdir -p results/pretrain results/finetune
  if ((${#runs[@]} == 1)); then
    copy_logs "$last" results/pretrain
  else
    # The one-stage layout's files would otherwise sit next to stage1/ as stale copies.
    rm -f results/pretrain/{log.jsonl,trainer_state.json,pseudo-perplexity.json}
    for i in "${!runs[@]}"; do copy_logs "${runs[$i]}" "results/pretrain/stage$((i + 1))"; done
  fi
  $ft
  cp runs/sst2-pretrained/metrics.json results/finetune/sst2-bert-mini-pretrained.json
fi
node -e '
const a = require("./results/finetune/sst2-bert-mini-scratch.json").best;
const b = require("./results/finetune/sst2-bert-mini-pretrained.json").best;
const f = (x) => (x * 100).toFixed(2);
process.stdout.write(`\n## Fine-tuned on sst2, same budget\n\n| initialisation | dev accuracy | dev macro-F1 |\n| --- | ---: | ---: |\n| random (baseline) | ${f(a.accuracy)} | ${f(a.macroF1)} |\n| this model | ${f(b.accuracy)} | ${f(b.macroF1)} |\n\nBudget: 2 epochs, batch 32, lr 1e-4, max length 64, seed 42 (\`plmkit finetune ... --data sst2\`, with and without \`--from-scratch\`).\n`);
' > /tmp/comparison.md
# Facts about how the runs went that the logs do not show (resumes, abandoned attempts) follow the table.
extra=/tmp/card-extra.md
cat /tmp/comparison.md > "$extra"
# The same comparison over several seeds and learning rates (scripts/sst2-lr-sweep.sh), when it has been run.
if test -f results/finetune/sst2-lr-sweep.md; then
  printf '\nOver several seeds and learning rates (the runs above are seed 42 at lr 1e-4):\n\n' >> "$extra"
  cat results/finetune/sst2-lr-sweep.md >> "$extra"
fi
# The same with a 4-epoch budget (EPOCHS=4 scripts/sst2-lr-sweep.sh; plan in results/finetune), when run.
if test -f results/finetune/sst2-lr-sweep-ep4.md; then
  printf '\nWith a 4-epoch budget (the length Turc et al. fine-tuned BERT-Mini for; cells fixed before running in results/finetune/sst2-lr-sweep-ep4.plan.md):\n\n' >> "$extra"
  cat results/finetune/sst2-lr-sweep-ep4.md >> "$extra"
fi
if test -f results/pretrain/card-notes.md; then cat results/pretrain/card-notes.md >> "$extra"; fi
node bin/plmkit.js pretrain-card --run "${runs[@]}" --corpus "$corpus" --model "$model" --extra "$extra" \
  --command "$corpus_command" "${stage_commands[@]:0:${#runs[@]}}" "$ft"
cat /tmp/comparison.md

#!/usr/bin/env bash
# The attack experiments of results/attack (Gu et al. 2023 protocol, scaled to a 2-core machine), then
# their summary and figures. Every run is one `plmkit attack` command, printed to runs/attack/commands-PART.txt;
# runs already finished are skipped (each run directory resumes), so rerunning continues a grid.
#   bash scripts/attack-grid.sh PART [PART ...]     PART: main | ablation | spam
#   bash scripts/attack-grid.sh status              finished runs of each part started so far
#   JOBS=2 (runs in parallel, one thread each)       SEEDS="0 1 2"
# Deviations from the paper's protocol, forced by compute (written next to the results too): a fixed
# random subset of 6,000 training examples per phase, 3 attacker epochs and 2 user epochs instead of 10
# and 5, lr 1e-3 for the attacker (adapters on a frozen encoder learn slowly even at 1e-3,
# results/attack/pilot) and 3e-4 for the user, texts cut to their first 48 words and 64 tokens, LFR/CACC on a fixed random 500 test examples.
# The user's lr keeps the paper's ratio of the user's to the attacker's training (lr x steps: 2e-5 x 3,900
# against 2e-5 x 21,000, 0.19; here 3e-4 x 376 against 1e-3 x 561, 0.20); with the attacker's 1e-3 the user
# trains 3.5 times harder than in the paper (results/attack/retrain-lr-1e-3). Some 6-16 minutes per run on
# one core (results/attack/pilot/README.md, "Budget check").
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
SEEDS=${SEEDS:-0 1 2}
# The budget of every run; set COMMON to change it (the command lists record what ran).
COMMON=${COMMON:-"--limit-train 6000 --limit-eval 500 --attack-epochs 3 --retrain-epochs 2 --batch-size 32 --lr 1e-3 --retrain-lr 3e-4 --max-length 64 --max-words 48"}
METHODS="clean vanilla ripple lwp gradnorm gradient-control"
if [[ ${1:-} == status ]]; then
  for list in runs/attack/commands-*.txt; do
    [[ -f $list ]] || { echo "no part started yet"; break; }
    finished=0
    while read -r line; do
      if [[ -f "${line##* --out }/metrics.json" ]]; then finished=$((finished + 1)); fi
    done < "$list"
    part=${list##*/commands-}
    echo "${part%.txt}: $finished of $(wc -l < "$list") runs finished"
  done
  exit 0
fi

mkdir -p runs/attack
echo '{"poisonOptions": {"numTriggers": 10}}' > runs/attack/spam.json

emit() { # pet pair(a:b) methods [extra flags]
  local pet=$1 a=${2%%:*} b=${2##*:} methods=$3 extra=${4:-}
  local tag=${extra// /-}; tag=${tag//--/-} # "--clnorm-alpha 4e-3" -> "-clnorm-alpha-4e-3"
  local cfg=""
  case $a in enron | lingspam) cfg="--config runs/attack/spam.json" ;; esac
  for seed in $SEEDS; do
    for m in $methods; do
      echo "node bin/plmkit.js attack --method $m --pet $pet --data $a --retrain-data $b --seed $seed $COMMON $cfg $extra --out runs/attack/$pet/$a-$b/$m$tag/seed$seed"
    done
  done
}

for part in "$@"; do
  list=runs/attack/commands-$part.txt
  {
    case $part in
      main)
        for pet in adapter parallel_adapter; do
          for pair in sst2:imdb imdb:sst2; do emit $pet $pair "$METHODS"; done
        done ;;
      ablation)
        for pair in sst2:imdb imdb:sst2; do
          emit adapter $pair "ilproj-only clnorm-only"
          emit adapter $pair gradient-control --only-on-conflict
          # CLNorm's alpha scaled by the paper's steps over ours (about 21,000 / 560): with 1e-4 its scales
          # hardly move in a run this short.
          emit adapter $pair gradient-control "--clnorm-alpha 4e-3"
        done ;;
      spam)
        for pet in adapter parallel_adapter; do
          for pair in enron:lingspam lingspam:enron; do emit $pet $pair "$METHODS"; done
        done ;;
      *) echo "unknown part $part (main | ablation | spam)" >&2; exit 2 ;;
    esac
  } > "$list"
  echo "$part: $(wc -l < "$list") runs, $JOBS at a time" >&2
  # Each run logs beside its directory; a failed run is reported and the grid goes on.
  PLMKIT_THREADS=1 xargs -P "$JOBS" -I{} bash -c 'out=${1##* --out }; mkdir -p "$out"; $1 > "$out.log" 2>&1 || echo "FAILED: $1" >&2' _ {} < "$list"
done

# Run-level metrics only (each run's retrain/ holds the user's fine-tuning metrics too).
runs=$(find runs/attack -path '*/seed*/metrics.json' -not -path '*/retrain/*' -printf '%h\n' | sort)
node bin/plmkit.js attack-summary --runs $runs --out results/attack
cp runs/attack/commands-*.txt results/attack/
# The paper's pilot figures (per-layer gradient magnitudes, clean/poisoned cosine) from the first seed of
# gradient control in each column.
for run in runs/attack/*/*/gradient-control/seed0; do
  if test -f "$run/metrics.json"; then
    name=${run#runs/attack/}
    node bin/plmkit.js attack-figures --run "$run" --out "results/attack/figures/${name//\//-}"
  fi
done

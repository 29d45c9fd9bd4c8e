#!/usr/bin/env bash
# What pretraining gains on sst2, over several seeds: the bundled model against the same architecture from
# random initialisation, with the budget of the card's comparison (2 epochs, batch 32, lr 1e-4, max length
# 64). One seed moves dev accuracy by 1-3 points (872 dev phrases), so a single pair of runs cannot settle
# a 3-point bar. Finished runs are skipped; seed 42's runs are the card's (runs/sst2-pretrained, made by
# scripts/bundle-pretrained-model.sh, and runs/sst2-scratch), other seeds go to runs/sst2-ARM-seedS.
#   bash scripts/sst2-pretraining-gain.sh [SEED ...]      (default: 42 43 44)
# Writes results/finetune/sst2-pretraining-gain.json and .md.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
((${#seeds[@]} > 0)) || seeds=(42 43 44)
dir() { # arm seed
  if [[ $2 == 42 ]]; then echo "runs/sst2-$1"; else echo "runs/sst2-$1-seed$2"; fi
}
dirs=()
for seed in "${seeds[@]}"; do
  for arm in scratch pretrained; do
    out=$(dir $arm "$seed")
    dirs+=("$arm:$seed:$out")
    if node -e 'process.exit(require(process.argv[1]).completed ? 0 : 1)' "$PWD/$out/metrics.json" 2>/dev/null; then
      continue
    fi
    flag=""
    [[ $arm == scratch ]] && flag=--from-scratch
    node bin/plmkit.js finetune --model models/plmkit-bert-mini $flag --data sst2 --out "$out" --epochs 2 \
      --batch-size 32 --lr 1e-4 --max-length 64 --seed "$seed"
  done
done
node -e '
const fs = require("fs");
const runs = process.argv.slice(1).map((s) => {
  const [arm, seed, dir] = s.split(":");
  const m = JSON.parse(fs.readFileSync(`${dir}/metrics.json`, "utf8"));
  const last = m.history[m.history.length - 1];
  return { arm, seed: Number(seed), dir, best: m.best.accuracy * 100, last_epoch: last.accuracy * 100 };
});
const stats = (xs) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std: sd };
};
const arm = (a, k) => stats(runs.filter((r) => r.arm === a).map((r) => r[k]));
const out = { runs, best: {}, last_epoch: {} };
for (const k of ["best", "last_epoch"]) {
  out[k] = { scratch: arm("scratch", k), pretrained: arm("pretrained", k) };
  out[k].gain = out[k].pretrained.mean - out[k].scratch.mean;
}
fs.writeFileSync("results/finetune/sst2-pretraining-gain.json.tmp", JSON.stringify(out, null, 2) + "\n");
fs.renameSync("results/finetune/sst2-pretraining-gain.json.tmp", "results/finetune/sst2-pretraining-gain.json");
const f = (x) => x.toFixed(2);
const seeds = [...new Set(runs.map((r) => r.seed))];
const cell = (a, s, k) => f(runs.find((r) => r.arm === a && r.seed === s)[k]);
const md = [
  "sst2 dev accuracy (%), 2 epochs, batch 32, lr 1e-4, max length 64; best epoch (last epoch):",
  "",
  `| initialisation | ${seeds.map((s) => `seed ${s}`).join(" | ")} | mean ± std |`,
  `| --- | ${seeds.map(() => "---:").join(" | ")} | ---: |`,
  ...["scratch", "pretrained"].map((a) =>
    `| ${a === "scratch" ? "random" : "models/plmkit-bert-mini"} | ${seeds.map((s) => `${cell(a, s, "best")} (${cell(a, s, "last_epoch")})`).join(" | ")} | ${f(out.best[a].mean)} ± ${f(out.best[a].std)} (${f(out.last_epoch[a].mean)} ± ${f(out.last_epoch[a].std)}) |`),
  "",
  `Gain of the pretrained model: ${f(out.best.gain)} points (best epoch), ${f(out.last_epoch.gain)} (last epoch).`,
].join("\n");
fs.writeFileSync("results/finetune/sst2-pretraining-gain.md", md + "\n");
process.stdout.write(md + "\n");
' "${dirs[@]}"

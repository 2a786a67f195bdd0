#!/usr/bin/env bash
# Training speed and peak memory: trains MODELs for EPOCHS epochs on the full Fashion-MNIST through the
# real CLI, once per thread count, and prints a Markdown table row per run. The first epoch includes
# JIT warm-up, so the table reports the mean of the later epochs.
#   bench/train-speed.sh [EPOCHS] [THREADS...]      (defaults: 3 epochs; 1 and 2 threads)
#   MODELS="lenet-300-100 lenet-5" selects the models.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
epochs="${1:-3}"; shift || true
threads=("${@:-1 2}"); threads=(${threads[*]})
models=(${MODELS:-lenet-300-100 lenet-5})
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

"$root/squeeze" models >/dev/null   # build first, so the build is not timed

echo "| model | threads | epochs | s/epoch (epochs 2..$epochs) | samples/s | peak RSS |"
echo "|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  for t in "${threads[@]}"; do
    home="$out/$model-$t"
    SQUEEZE_THREADS="$t" SQUEEZE_HOME="$home" /usr/bin/time -v -o "$out/time-$model-$t" \
      "$root/squeeze" train --model "$model" --epochs "$epochs" --force >"$out/out-$model-$t" 2>"$out/err-$model-$t"
    history=$(ls "$home"/train-*/history.csv)
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time-$model-$t")
    awk -F, -v m="$model" -v t="$t" -v e="$epochs" -v rss="$rss_kb" '
      NR > 2 { s += $6; n++; sps += $7 }
      END { printf "| %s | %d | %d | %.1f | %.0f | %.2f GB |\n", m, t, e, s / n, sps / n, rss / 1024 / 1024 }' "$history"
  done
done

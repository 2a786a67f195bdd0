#!/usr/bin/env bash
# A CNN through `squeeze quantize --from model.onnx` in static mode, against Squeeze's own DL4J-path int8 of the
# same network: lenet-5 is trained on the full Fashion-MNIST (defaults), quantized the DL4J way (`quantize --from RUN`,
# calibration auto) and exported float and int8; then the FLOAT export alone is quantized as any third-party ONNX
# file would be (`quantize --from lenet-5.onnx --dataset fashion-mnist`: calibrated on 1,000 training images, measured
# on the 10,000 test images), and `squeeze bench` measures the three files side by side in ONNX Runtime.
# Goal (issue 15): top-1 agreement >= 99.5% with the float model, test accuracy within 0.1 point of the DL4J int8.
#   bench/onnx-quantize-lenet5.sh [WORK_DIR]   (default: a new temporary folder; reuses finished runs in WORK_DIR)
# Needs the full dataset (Debian: dataset-fashion-mnist, or --data via $SQUEEZE_DATA) and jq. Training takes most of
# the time (30 epochs, about 10-50 s each on 2 cores depending on load).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/models"
export SQUEEZE_HOME="$work/runs"
sq() { "$root/squeeze" "$@"; }
latest() { sq runs --stage "$1" --json | jq -r ".[] | select(.model == \"$2\" and .status == \"done\") | .id" | head -1; }

sq train --model lenet-5 | tail -2
train=$(latest train lenet-5)
sq quantize --from "$train" --json > "$work/dl4j-int8.json"
int8=$(jq -r .runId "$work/dl4j-int8.json")
sq export --from "$train" --output "$work/models/lenet-5.onnx" | grep -E '^(size|test|parity)'
sq export --from "$int8" --output "$work/models/lenet-5-int8.onnx" | grep -E '^(size|test|parity|fused)'
echo
echo "\$ squeeze quantize --from lenet-5.onnx --dataset fashion-mnist --onnx-output lenet-5-static.onnx"
start=$(date +%s.%N)
sq quantize --from "$work/models/lenet-5.onnx" --dataset fashion-mnist --onnx-output "$work/models/lenet-5-static.onnx" \
  | sed "s:$work/::g"
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "(%.1f s)\n\n", e - s }'
sq bench --models "$work/models" --threads 1

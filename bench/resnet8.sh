#!/usr/bin/env bash
# resnet-8, a residual ComputationGraph (batch norm, global average pooling), through every stage on the full
# Fashion-MNIST (issue 16), and the same training from the dataset written as a folder of PNG files.
#   1. train    squeeze train --model resnet-8 --augment flip,crop (defaults otherwise: batch 60, Adam 1e-3 x0.8 per
#               epoch, patience 3, at most 30 epochs; 1 thread); median seconds per epoch from its history (epochs 2..n)
#   2. int8     squeeze quantize (calibration auto) and export of the float and the int8 model: test accuracy in
#               ONNX Runtime, file sizes
#   3. ticket   squeeze prune: 2 levels at rate 0.46, global scope, late rewinding to epoch 1 (0.54^2 = 29.2% of the
#               conv and dense weights left)
#   4. folder   Fashion-MNIST (train and test splits) written as PNG folders, then step 1 again from the folder
# Goals: resnet-8 >= 92.5% test accuracy; int8 within 0.3 point at <= 30% of the float file; a ticket at <= 30% of
# the weights within 0.5 point; the folder's accuracy equal to the IDX files' (the folder orders examples by file
# name, so the shuffles differ: equal within noise, not bit for bit).
#   bench/resnet8.sh WORK_DIR [STEP...]     steps: train int8 ticket folder (default: all, in that order)
# Every step resumes: run the same command again after a kill (training continues from its last epoch, pruning
# from its last complete level). Needs the full dataset (Debian: dataset-fashion-mnist) and jq. Each training is
# about 20-30 epochs of 2-4 minutes on this machine (BENCHMARKS.md, "resnet-8").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:?usage: bench/resnet8.sh WORK_DIR [train|int8|ticket|folder]...}"
shift
steps="${*:-train int8 ticket folder}"
mkdir -p "$work/models"
export SQUEEZE_HOME="$work/runs"
data="${SQUEEZE_DATA:-/usr/share/datasets}/fashion-mnist"
sq() { "$root/squeeze" "$@"; }
train_args=(--model resnet-8 --augment flip,crop)
run_of() {   # the newest finished run of stage $1 whose dataset is $2
  sq runs --stage "$1" --json | jq -r ".[] | select(.model == \"resnet-8\" and .dataset == \"$2\" and .status == \"done\") | .id" | head -1
}
epoch_seconds() {   # median seconds per epoch, epochs 2..n (the median: a paused or loaded epoch does not skew it)
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next } NR > 2 { print $c }' "$1/history.csv" \
    | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "n/a" }'
}
folder_of() { sq runs --json | jq -r ".[] | select(.id == \"$1\") | .artifact_dir"; }

for step in $steps; do
  case "$step" in
    train)
      sq train "${train_args[@]}" | tail -3
      id=$(run_of train fashion-mnist)
      echo "resnet-8 (IDX files): run $id, $(epoch_seconds "$(folder_of "$id")") s/epoch at 1 thread (epochs 2..n)"
      ;;
    int8)
      id=$(run_of train fashion-mnist)
      sq quantize --from "$id" --json > "$work/int8.json"
      int8=$(jq -r .runId "$work/int8.json")
      sq export --from "$id" --output "$work/models/resnet-8.onnx" | grep -E '^(size|test|parity)'
      sq export --from "$int8" --output "$work/models/resnet-8-int8.onnx" | grep -E '^(size|test|parity|fused)'
      float_bytes=$(stat -c %s "$work/models/resnet-8.onnx"); int8_bytes=$(stat -c %s "$work/models/resnet-8-int8.onnx")
      awk -v f="$float_bytes" -v q="$int8_bytes" 'BEGIN { printf "int8 file: %d B of %d B float (%.1f%%)\n", q, f, 100 * q / f }'
      ;;
    ticket)
      id=$(run_of train fashion-mnist)
      sq prune --from "$id" --levels 2 --rate 0.46 --scope global --rewind-to 1ep | tail -8
      ;;
    folder)
      if [ ! -f "$work/fashion-png/.complete" ]; then
        rm -rf "$work/fashion-png"
        lib="$(readlink -f "$root/cli/target/dist/current")/lib"
        echo "dev.squeeze.models.data.ImageFolderWriter.write(dev.squeeze.models.data.DatasetLoader.load(\"fashion-mnist\", java.nio.file.Path.of(\"$data\")), java.nio.file.Path.of(\"$work/fashion-png\"))" \
          | jshell -q --class-path "$(ls -d "$lib"/* | tr '\n' ':')"
        touch "$work/fashion-png/.complete"
      fi
      sq train "${train_args[@]}" --dataset "$work/fashion-png" | tail -3
      id=$(run_of train "$work/fashion-png")
      echo "resnet-8 (PNG folder): run $id, $(epoch_seconds "$(folder_of "$id")") s/epoch"
      ;;
    *) echo "unknown step '$step' (train, int8, ticket, folder)" >&2; exit 2 ;;
  esac
done
sq runs --stage train | head -5

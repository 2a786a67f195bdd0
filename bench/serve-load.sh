#!/usr/bin/env bash
# Load test of `squeeze serve` on loopback with wrk (apt-get install wrk): one Fashion-MNIST test image per
# request as an Open Inference Protocol JSON body, 64 connections for 60 s, once with dynamic batching (the
# default) and once without (--max-batch-size 1); server RSS before and after; then the same model's in-process
# ONNX Runtime reference from `squeeze bench` (batch 1 from 1 and CONNECTIONS caller threads on one session, each call
# making the input tensor, running, reading every output), the ceiling. Prints Markdown. For JSON, binary tensor data
# and gRPC side by side, see bench/serve-protocols.sh.
#   bench/serve-load.sh MODEL.onnx [SECONDS] [CONNECTIONS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$(realpath "$1")"; seconds="${2:-60}"; conns="${3:-64}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
work="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/models/m"; cp "$model" "$work/models/m/model.onnx"
python3 - "$work/body.json" <<'PY'
import gzip, json, sys
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784]
json.dump({"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": list(raw)}]},
          open(sys.argv[1], "w"))
PY
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.0f %.0f %.0f\n", summary.requests, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
LUA
"$root/squeeze" models >/dev/null   # build first
heap() {   # heap in use right after a full GC, MB
  jcmd "$1" GC.run >/dev/null 2>&1 || true
  jcmd "$1" GC.heap_info 2>/dev/null | awk '/garbage-first heap/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub("K,?", "", v); printf "%.0f", v / 1024}}'
}
echo "| batching | run | requests/s | p50 | p90 | p99 | errors | server RSS after | heap after GC |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for batch in 32 1; do
  port=$((18000 + RANDOM % 1000))
  "$root/squeeze" serve --models "$work/models" --port "$port" --max-batch-size "$batch" 2>"$work/serve.err" &
  pid=$!   # the launcher execs java
  for i in $(seq 60); do curl -sf "localhost:$port/v2/models/m/ready" >/dev/null && break; sleep 0.5; done
  wrk -t2 -c"$conns" -d5s -s "$work/post.lua" "http://127.0.0.1:$port/v2/models/m/infer" >/dev/null   # warm-up
  echo "| $( [ "$batch" -gt 1 ] && echo "on (max $batch)" || echo off) | warm-up | | | | | | $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' /proc/$pid/status) | $(heap $pid) MB |"
  for run in 1 2; do
    line=$(wrk -t2 -c"$conns" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/v2/models/m/infer" | grep RESULT)
    read -r _ reqs errs dur p50 p90 p99 <<<"$line"
    rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$pid/status)
    awk -v b="$batch" -v run="$run" -v r="$reqs" -v e="$errs" -v d="$dur" -v p50="$p50" -v p90="$p90" -v p99="$p99" \
      -v rss="$rss" -v heap="$(heap $pid)" 'BEGIN { printf "| %s | %d | %.0f | %.2f ms | %.2f ms | %.2f ms | %d | %d MB | %s MB |\n",
        (b > 1 ? "on (max " b ")" : "off"), run, r / (d / 1e6), p50 / 1e3, p90 / 1e3, p99 / 1e3, e, rss, heap }'
  done
  curl -s "localhost:$port/metrics" > "$work/metrics-$batch.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^squeeze_batch_requests_(sum|count)/ {v[$1] = $2} END {for (k in v) if (k ~ /count/) c = v[k]; else s = v[k];
    printf "    mean requests per ONNX Runtime call: %.1f\n", s / c}' "$work/metrics-$batch.txt" >&2
done
echo; echo "In-process ONNX Runtime, same model (squeeze bench --callers 1,$conns):"
SQUEEZE_HOME="$work/home" "$root/squeeze" bench --models "$work/models" --callers "1,$conns" 2>/dev/null

#!/usr/bin/env bash
# One run on one machine (issue 18): a model with one FP32 image input (the int8 lenet-300-100 export) served by
# `squeeze serve` and loaded by `squeeze bench --url` with one Fashion-MNIST test image per request over JSON, binary
# tensor data and gRPC (when this squeeze serves gRPC), at concurrency 1, 16 and 64, each level SECONDS long (three
# windows of SECONDS/3); beside the in-process ONNX Runtime reference of the same run (`squeeze bench`: batch 1 from
# 1, 16 and 64 caller threads on one session, each call making the input tensor, running, reading every output).
# Per level: requests/s, p50, p99, errors, the load generator's CPU (share of the machine, and of what its threads
# could use: "limit" when the client was the limit), the server's heap in use after a full GC before and after the
# level, the ratio of requests/s to the in-process reference with 1 caller and with as many callers as the level has
# clients, and the p50 over the in-process p50 (1 caller). Prints Markdown.
#   bench/serve-protocols.sh MODEL.onnx [SECONDS=60] [CLIENT_THREADS=1]
# Environment: SERVE_OPTS, extra `squeeze serve` options (e.g. "--max-batch-size 1"); LEVELS (default "1 16 64");
# PIN=1 runs the server and the in-process reference on core 0 and the load generator on core 1 (taskset), so the
# server gets the one core the reference's caller has and the client does not take from it.
# The reference is measured before and after the server's levels; ratios are to the faster of the two.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$(realpath "$1")"; seconds="${2:-60}"; client_threads="${3:-1}"
levels="${LEVELS:-1 16 64}"
work="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export SQUEEZE_HOME="$work/home"   # the benchmark's ledger rows go here, not into the caller's runs
mkdir -p "$work/models/m"; cp "$model" "$work/models/m/model.onnx"
python3 - "$work/body.json" <<'PY'
import gzip, json, sys
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784]
json.dump({"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": list(raw)}]},
          open(sys.argv[1], "w"))
PY
"$root/squeeze" models >/dev/null   # build first
window_ms=$((seconds * 1000 / 3))
protocols="json binary"
"$root/squeeze" serve --help | grep -q -- --grpc-port && protocols="$protocols grpc"
callers="$(echo "$levels" | tr ' ' ',')"
pin_server=(); pin_client=()
if [ "${PIN:-0}" = 1 ]; then pin_server=(taskset -c 0); pin_client=(taskset -c 1); fi

heap() {   # live heap, MB: the class histogram's total, taken after the full GC it runs (any collector: a JVM pinned
           # to one core picks the Serial collector, whose heap_info has no "garbage-first heap" line)
  jcmd "$1" GC.class_histogram 2>/dev/null | awk '/^Total/ {printf "%.0f", $3 / 1048576}'
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(basename "$model"), ${seconds} s per level, ${client_threads} client thread(s), serve ${SERVE_OPTS:-defaults}${PIN:+, PIN=$PIN}" >&2
reference() {   # -> JSON of the in-process reference
  echo "in-process reference (squeeze bench --callers $callers)..." >&2
  "${pin_server[@]}" "$root/squeeze" bench --models "$work/models" --callers "$callers" --window-ms 1000 --json
}
reference > "$work/inprocess.json"

port=$((18000 + RANDOM % 1000)); grpc_port=$((port + 1000))
grpc_opt=""; [[ "$protocols" == *grpc* ]] && grpc_opt="--grpc-port $grpc_port"
# shellcheck disable=SC2086
"${pin_server[@]}" "$root/squeeze" serve --models "$work/models" --port "$port" $grpc_opt ${SERVE_OPTS:-} 2>"$work/serve.err" &
pid=$!   # the launcher execs java
for i in $(seq 120); do curl -sf "localhost:$port/v2/models/m/ready" >/dev/null && break; sleep 0.5; done
load() {   # protocol concurrency window_ms max_windows warmup_ms -> JSON
  "${pin_client[@]}" "$root/squeeze" bench --url "http://127.0.0.1:$port" --model m --body "$work/body.json" --protocol "$1" \
    --grpc-target "127.0.0.1:$grpc_port" --client-threads "$client_threads" --concurrency "$2" \
    --window-ms "$3" --max-windows "$4" --warmup-ms "$5" --json || true   # errors are reported in the table
}
for p in $protocols; do load "$p" 16 1000 3 2000 >/dev/null; done   # warm-up of the server, every protocol
for p in $protocols; do
  for c in $levels; do
    echo "$p, concurrency $c..." >&2
    before=$(heap $pid)
    load "$p" "$c" "$window_ms" 3 2000 > "$work/load-$p-$c.json"
    echo "$before $(heap $pid)" > "$work/heap-$p-$c.txt"
  done
done
kill "$pid"; wait "$pid" 2>/dev/null || true
reference > "$work/inprocess-after.json"

python3 - "$work" "$protocols" "$levels" <<'PY'
import json, sys
work, protocols, levels = sys.argv[1], sys.argv[2].split(), [int(c) for c in sys.argv[3].split()]
before = json.load(open(f"{work}/inprocess.json"))[0]
after = json.load(open(f"{work}/inprocess-after.json"))[0]
# The faster of the two references, before and after the server's levels: the ratios are not flattered by a slow one.
ref = max(before, after, key=lambda r: r["batch1"]["throughputSamplesPerSecond"])
inproc = {1: ref["batch1"]}
for p in ref.get("concurrent") or []:
    inproc[p["callers"]] = p
one = inproc[1]
print("| protocol | concurrency | requests/s | × in-process, 1 caller | × in-process, same callers | p50 | p50 − in-process p50 | p99 | errors | client CPU (busy) | server heap after GC, before → after |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in levels:
    p = inproc.get(c)
    if p:
        print(f"| in-process (ONNX Runtime, 1 session) | {c} | {p['throughputSamplesPerSecond']:,.0f} | "
              f"{p['throughputSamplesPerSecond'] / one['throughputSamplesPerSecond']:.2f} | 1.00 | {p['latencyP50Micros']:.1f} µs | | "
              f"{p['latencyP99Micros']:.1f} µs | | | |")
limited = []
for proto in protocols:
    for c in levels:
        try:
            r = json.load(open(f"{work}/load-{proto}-{c}.json"))
        except (OSError, ValueError):
            print(f"| {proto} | {c} | (no result) | | | | | | | | |")
            continue
        l = r["levels"][0]
        heap = open(f"{work}/heap-{proto}-{c}.txt").read().split()
        rps = l["throughputPerSecond"]
        p50 = l["latencyP50Millis"] * 1000
        same = f"{rps / inproc[c]['throughputSamplesPerSecond']:.2f}" if c in inproc else ""
        over = f"{p50 - one['latencyP50Micros']:.0f} µs" if c == 1 else ""
        client = f"{l['clientCpuPercent']:.0f}% ({l['clientBusyPercent']:.0f}%{', limit' if l['clientLimited'] else ''})"
        if l["clientLimited"]:
            limited.append(f"{proto} at {c}")
        print(f"| {proto} | {c} | {rps:,.0f} | {rps / one['throughputSamplesPerSecond']:.2f} | {same} | {p50:.0f} µs | "
              f"{over} | {l['latencyP99Millis'] * 1000:.0f} µs | {l['errors']} | {client} | "
              f"{' → '.join(h + ' MB' for h in heap)} |")
print()
print(f"In-process reference: {ref['file'].split('/')[-1]} measured by `squeeze bench` in this run "
      f"(ONNX Runtime {ref['onnxRuntimeVersion']}, {ref['threads']} intra-op thread, stable: {ref['stable']}), "
      f"before and after the server's levels: {before['batch1']['throughputSamplesPerSecond']:,.0f} and "
      f"{after['batch1']['throughputSamplesPerSecond']:,.0f} images/s with 1 caller (p50 "
      f"{before['batch1']['latencyP50Micros']:.1f} and {after['batch1']['latencyP50Micros']:.1f} µs); the table's "
      f"in-process rows and ratios are the {'first' if ref is before else 'second'}, the faster.")
if limited:
    print(f"The load generator was the limit (its threads busy >= 90%) at: {', '.join(limited)}; "
          "rerun with more client threads or the client on another machine.")
PY

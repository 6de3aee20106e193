#!/usr/bin/env bash
# How a fresh model server's tail latency at concurrency 1 settles as the JIT finishes, in one command:
# bench/jit-settle.sh
#
# One server per model (the defaults a pod gets: 10 engine and 5,000 HTTP warm-up requests before ready) on the
# last CPU, wrk on CPU 0 at one connection, from the moment it is ready: WINDOWS back-to-back windows of WINDOW
# seconds each. Per window: requests/s, p50/p99 at the client, and the CPU time the JVM's C2 compiler threads took
# in that window (from /proc: the JIT's own work, which on one core is taken from the request path). What it
# shows: whether the c=1 tail is the JIT still compiling, and when it stops. Prints a Markdown table; raw output
# in bench/out-jit/.
#
# Knobs (environment): WINDOWS (6), WINDOW (10 s), MODELS ("heavy tiny"), PORT (18095). Load goes to
# 127.0.0.1 only; every process it starts is stopped on exit.
set -euo pipefail

WINDOWS=${WINDOWS:-6}
WINDOW=${WINDOW:-10}
MODELS=${MODELS:-heavy tiny}
PORT=${PORT:-18095}
PEER_PORT=$PORT
OUT=$(cd "$(dirname "$0")" && pwd)/out-jit
NEED_PEER=0
source "$(dirname "$0")/common.sh"

CPUS=$(nproc)
server_cpus=$((CPUS - 1)) load_cpus=0
[[ $CPUS -ge 2 ]] || { server_cpus=0; load_cpus=0; }
TICK=$(getconf CLK_TCK)

c2_ms() { # pid: CPU time of the JVM's C2 compiler threads so far, in ms
  local total=0 task
  for task in /proc/"$1"/task/*; do
    if [[ $(cat "$task/comm" 2>/dev/null) == C2* ]]; then
      total=$((total + $(awk '{print $14 + $15}' "$task/stat")))
    fi
  done
  echo $((total * 1000 / TICK))
}

for model in $MODELS; do
  url="http://127.0.0.1:$PORT/v2/models/$model/infer"
  # shellcheck disable=SC2046
  taskset -c "$server_cpus" $(server_cmd b "$model" "$PORT") >"$LOGS/$model-server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready "$PORT" "$pid"
  log "$model ready: $(grep -o 'JIT compilations ran for.*' "$LOGS/$model-server.log" || echo 'no JIT report')"
  for window in $(seq 1 "$WINDOWS"); do
    before=$(c2_ms "$pid")
    BODY_FILE=$OUT/models/bodies/$model.json timeout $((WINDOW + 60)) taskset -c "$load_cpus" \
      wrk -t1 -c1 -d"${WINDOW}s" --timeout 10s --latency -s "$BENCH/wrk/infer.lua" "$url" \
      >"$LOGS/$model-w$window.txt" 2>&1
    after=$(c2_ms "$pid")
    line=$(grep '^WRK ' "$LOGS/$model-w$window.txt" | sed 's/^WRK //')
    printf '{"model":"%s","window":%s,"c2Ms":%s,"data":%s}\n' "$model" "$window" "$((after - before))" "$line" \
      >>"$RESULTS"
    log "  $model window $window: C2 $((after - before)) ms; $line"
  done
  stop_pid "$pid"
done

python3 - "$RESULTS" "$WINDOW" <<'PY' | tee "$OUT/results.md"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
window = int(sys.argv[2])
print(f"| model | window after ready | req/s | p50 (ms) | p99 (ms) | C2 compiler CPU in the window (ms) | errors |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    d = r["data"]
    errors = sum(d[k] for k in ("connectErrors", "readErrors", "writeErrors", "timeouts", "non2xx"))
    start = (r["window"] - 1) * window
    print(f"| {r['model']} | {start}-{start + window} s | {d['rps']:,.0f} | {d['p50Ms']:.2f} | {d['p99Ms']:.2f} | "
          f"{r['c2Ms']:,} | {errors} |")
PY

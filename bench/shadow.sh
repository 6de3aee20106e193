#!/usr/bin/env bash
# What shadow traffic costs the caller, in one command: bench/shadow.sh
#
# One model server (the "stable" pod) under wrk, in three settings, rounds alternating so drift hits all alike:
#   off  - no mirroring;
#   live - every request mirrored to a second server with the same model (its answers compared);
#   dead - every request mirrored to a port nobody listens on (each mirrored request fails).
# Tiny and heavy model, concurrency 16. The stable server runs on the last CPU, wrk and the mirror target on CPU 0
# (a 2-core machine has no third). Prints a Markdown table with p50/p99 ratios to "off", the caller's errors and
# what the mirror did (compared, failed, dropped); raw output in bench/out-shadow/.
#
# Knobs (environment): DURATION (s per measured run, 10), WARMUP (s, 3), ROUNDS (3), PORT (18094), MAX_PER_SECOND
# (the mirror's cap, 100, the operator's default; 100000 is "no cap"). Load goes to
# 127.0.0.1 only; every process it starts is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18094}
MAX_PER_SECOND=${MAX_PER_SECOND:-100}
PEER_PORT=$((PORT + 1))
DEAD_PORT=$((PORT + 2))
OUT=$(cd "$(dirname "$0")" && pwd)/out-shadow
NEED_PEER=0
source "$(dirname "$0")/common.sh"

CPUS=$(nproc)
server_cpus=$((CPUS - 1)) load_cpus=0
[[ $CPUS -ge 2 ]] || { server_cpus=0; load_cpus=0; }
TOKEN=bench-admin-token
printf '%s\n' "$TOKEN" >"$OUT/admin-token"

admin() { # method [json]
  if [[ $1 == PUT ]]; then
    curl -sf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" \
      "http://127.0.0.1:$PORT/admin/shadow" >/dev/null
  else
    curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/admin/shadow" >/dev/null
  fi
}

mirror_counts() { # -> "compared failed dropped limited paused" so far, over every shadow version
  curl -sf "http://127.0.0.1:$PORT/metrics" | python3 -c '
import re, sys
counts = {"compared": 0, "failed": 0, "dropped": 0, "skipped": 0, "limited": 0, "paused": 0}
for line in sys.stdin:
    m = re.match(r"modelship_shadow_requests_total\{([^}]*)\} (\S+)", line)
    if m:
        o = re.search(r"outcome=\"([a-z]+)\"", m.group(1)).group(1)
        counts[o] += float(m.group(2))
print(*(int(counts[k]) for k in ("compared", "failed", "dropped", "limited", "paused")))'
}

for model in tiny heavy; do
  log "model $model: stable server on CPU $server_cpus, mirror target and wrk on CPU $load_cpus"
  # shellcheck disable=SC2046
  MODELSHIP_ADMIN_TOKEN_FILE="$OUT/admin-token" taskset -c "$server_cpus" $(server_cmd b "$model" "$PORT") \
    >"$LOGS/stable-$model.log" 2>&1 &
  stable=$!
  PIDS+=("$stable")
  # shellcheck disable=SC2046
  taskset -c "$load_cpus" $(server_cmd b "$model" "$PEER_PORT") >"$LOGS/target-$model.log" 2>&1 &
  target=$!
  PIDS+=("$target")
  wait_ready "$PORT" "$stable"
  wait_ready "$PEER_PORT" "$target"
  url="http://127.0.0.1:$PORT/v2/models/$model/infer"
  for round in $(seq 1 "$ROUNDS"); do
    for mode in off live dead; do
      case $mode in
        off) admin DELETE ;;
        live) admin PUT "{\"target\":\"http://127.0.0.1:$PEER_PORT\",\"version\":\"live\",\"share\":1.0,\"maxPerSecond\":$MAX_PER_SECOND}" ;;
        dead) admin PUT "{\"target\":\"http://127.0.0.1:$DEAD_PORT\",\"version\":\"dead\",\"share\":1.0,\"maxPerSecond\":$MAX_PER_SECOND}" ;;
      esac
      BODY_FILE=$OUT/models/bodies/$model.json timeout $((WARMUP + 60)) taskset -c "$load_cpus" \
        wrk -t1 -c16 -d"${WARMUP}s" --timeout 10s -s "$BENCH/wrk/infer.lua" "$url" >/dev/null 2>&1
      before=$(mirror_counts)
      BODY_FILE=$OUT/models/bodies/$model.json timeout $((DURATION + 60)) taskset -c "$load_cpus" \
        wrk -t1 -c16 -d"${DURATION}s" --timeout 10s --latency -s "$BENCH/wrk/infer.lua" "$url" \
        >"$LOGS/$model-$mode-r$round.txt" 2>&1
      after=$(mirror_counts)
      line=$(grep '^WRK ' "$LOGS/$model-$mode-r$round.txt" | sed 's/^WRK //')
      printf '{"model":"%s","mode":"%s","round":%s,"data":%s,"before":"%s","after":"%s"}\n' \
        "$model" "$mode" "$round" "$line" "$before" "$after" >>"$RESULTS"
      log "  $model $mode round $round: $line (mirror compared/failed/dropped: $before -> $after)"
    done
  done
  admin DELETE
  stop_pid "$stable"
  stop_pid "$target"
done

python3 - "$RESULTS" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("## What shadow traffic costs the caller (c=16, median of rounds; stable server 1 CPU, wrk + target 1 CPU)\n")
print("| model | mirroring | req/s | p50 ms | p99 ms | p50 / off | p99 / off | caller errors | mirror: compared / failed / dropped / limited / paused |")
print("|---|---|---|---|---|---|---|---|---|")
for model in ("tiny", "heavy"):
    def med(mode, key):
        return statistics.median(r["data"][key] for r in rows if r["model"] == model and r["mode"] == mode)
    for mode in ("off", "live", "dead"):
        sel = [r for r in rows if r["model"] == model and r["mode"] == mode]
        errors = sum(r["data"][k] for r in sel for k in ("connectErrors", "readErrors", "writeErrors", "timeouts", "non2xx"))
        mirrored = [0, 0, 0, 0, 0]
        for r in sel:
            b = [int(x) for x in r["before"].split()]
            a = [int(x) for x in r["after"].split()]
            mirrored = [m + (y - x) for m, x, y in zip(mirrored, b, a)]
        print(f"| {model} | {mode} | {med(mode,'rps'):,.0f} | {med(mode,'p50Ms'):.2f} | {med(mode,'p99Ms'):.2f}"
              f" | {med(mode,'p50Ms')/med('off','p50Ms'):.2f} | {med(mode,'p99Ms')/med('off','p99Ms'):.2f} | {errors}"
              f" | {' / '.join(str(m) for m in mirrored)} |")
PY
log "done in $(($(date +%s) - started_at)) s"

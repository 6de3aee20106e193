#!/usr/bin/env bash
# The model-server benchmark, in one command: bench/run.sh
#
# Builds what it needs (model-server classes via ./mvnw, the Java harness under bench/java with javac, the
# FastAPI peer's virtualenv), writes the two ONNX models with the test utility OnnxModels, then measures on
# this machine, with the same model files and request bodies:
#   (a) ONNX Runtime OrtSession.run() in process (bench/java/.../OrtBench.java), the ceiling;
#   (b) model-server serve under wrk;
#   (c) FastAPI + uvicorn + onnxruntime (bench/peers/fastapi_server.py) under the same wrk load;
#   (d) KServe 0.21's own Python model server running onnxruntime (bench/peers/kserve_server.py), the same load;
# for the tiny and the compute-heavy MLP at concurrency 1 and 16, in each CPU layout of LAYOUTS, ROUNDS times
# with the systems interleaved (a b c d, then again), so that a slow minute of the machine hits every system;
# the report gives each cell's median round.
#   pinned: the server (or the in-process harness) on the last CPU, wrk on CPU 0 (taskset), so the load
#           generator does not steal the server's cycles; the server gets exactly one core;
#   shared: no pinning; server and wrk share every core, as an unpinned load test on a small box does.
# Then start -> ready and first request vs warm latency (bench/probe.py, 5 starts, no load, no pinning).
# Prints Markdown tables and the target verdicts; raw output stays in bench/out/.
#
# Knobs (environment): DURATION (s per measured wrk run, 15), WARMUP (s of wrk warm-up, discarded, 5),
# ORT_DURATION (10), ORT_WARMUP (3), STARTS (5), LAYOUTS ("pinned shared"), ROUNDS (3), PORT (18080; uses
# PORT..PORT+1).
# Load goes to 127.0.0.1 only; every loop is bounded; every process it starts is stopped by pid on exit.
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
ORT_DURATION=${ORT_DURATION:-10}
ORT_WARMUP=${ORT_WARMUP:-3}
STARTS=${STARTS:-5}
LAYOUTS=${LAYOUTS:-pinned shared}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18080}
PEER_PORT=$((PORT + 1))

source "$(dirname "$0")/common.sh"

round=0
record() { # layout system model c json
  printf '{"round":%s,"layout":"%s","system":"%s","model":"%s","c":%s,"data":%s}\n' "$round" "$1" "$2" "$3" "$4" \
    "$5" >>"$RESULTS"
}

# (b) and (c): one server process per model and layout, wrk warm-up then the measured run at each concurrency.
http_cells() { # layout system model server_cpus load_cpus
  local layout=$1 system=$2 model=$3 scpus=$4 lcpus=$5 port pid url
  port=$([[ $system == b ]] && echo "$PORT" || echo "$PEER_PORT")
  local tag=$layout-$system-$model-r$round
  url="http://127.0.0.1:$port/v2/models/$model/infer"
  # shellcheck disable=SC2046
  taskset -c "$scpus" $(server_cmd "$system" "$model" "$port") >"$LOGS/$tag.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready "$port" "$pid"
  # One checked request before any load: the answer must be 200 with outputs.
  curl -sf -H 'Content-Type: application/json' --data-binary @"$OUT/models/bodies/$model.json" "$url" \
    >"$LOGS/$tag.first.json"
  grep -q '"outputs"' "$LOGS/$tag.first.json"
  for c in 1 16; do
    local threads=1 # one wrk thread per CPU wrk may use, never more than connections
    [[ $c -gt 1 && $lcpus == *-* ]] && threads=2
    BODY_FILE="$OUT/models/bodies/$model.json" timeout $((WARMUP + 60)) taskset -c "$lcpus" \
      wrk -t"$threads" -c"$c" -d"${WARMUP}s" --timeout 10s -s "$BENCH/wrk/infer.lua" "$url" \
      >"$LOGS/$tag-c$c.warmup.txt" 2>&1
    BODY_FILE="$OUT/models/bodies/$model.json" timeout $((DURATION + 60)) taskset -c "$lcpus" \
      wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH/wrk/infer.lua" "$url" \
      >"$LOGS/$tag-c$c.txt" 2>&1
    local line
    line=$(grep '^WRK ' "$LOGS/$tag-c$c.txt" | sed 's/^WRK //')
    record "$layout" "$system" "$model" "$c" "$line"
    log "  round $round $layout $system $model c=$c: $line"
  done
  if [[ $system == b ]]; then
    curl -sf "http://127.0.0.1:$port/metrics" >"$LOGS/$tag.metrics.txt" || true
  fi
  stop_pid "$pid"
}

# ----------------------------------------------------------------------------------------------- measurements
for round in $(seq 1 "$ROUNDS"); do
for layout in $LAYOUTS; do
  if [[ $layout == pinned && $CPUS -ge 2 ]]; then
    server_cpus=$LAST_CPU load_cpus=0
  else
    server_cpus=0-$LAST_CPU load_cpus=0-$LAST_CPU
  fi
  log "round $round of $ROUNDS, layout $layout: server/harness on CPUs $server_cpus, wrk on CPUs $load_cpus"
  for model in tiny heavy; do
    log " (a) OrtSession.run in process, $model"
    timeout $((2 * (ORT_WARMUP + ORT_DURATION) + 120)) taskset -c "$server_cpus" \
      java -Djava.io.tmpdir="$OUT/tmp" @"$OUT/harness-cp.args" io.modelship.bench.OrtBench \
      "$OUT/models/$model/model.onnx" "$model" "$ORT_WARMUP" "$ORT_DURATION" 1 16 \
      >"$LOGS/$layout-a-$model-r$round.txt" 2>&1
    while read -r line; do
      json=${line#ORT }
      c=$(sed -E 's/.*"threads":([0-9]+).*/\1/' <<<"$json")
      record "$layout" a "$model" "$c" "$json"
      log "  round $round $layout a $model c=$c: $json"
    done < <(grep '^ORT ' "$LOGS/$layout-a-$model-r$round.txt")
    log " (b) model-server, $model"
    http_cells "$layout" b "$model" "$server_cpus" "$load_cpus"
    log " (c) FastAPI peer, $model"
    http_cells "$layout" c "$model" "$server_cpus" "$load_cpus"
    log " (d) KServe peer, $model"
    http_cells "$layout" d "$model" "$server_cpus" "$load_cpus"
  done
done
done
round=0

log "start -> ready and first request ($STARTS starts each, no load, no pinning)"
for model in tiny heavy; do
  for system in b c d; do
    # shellcheck disable=SC2046
    line=$(timeout 600 python3 "$BENCH/probe.py" --port "$PORT" --model "$model" --starts "$STARTS" \
      --body "$OUT/models/bodies/$model.json" --label "$system" --log "$LOGS/probe-$system-$model.log" \
      -- $(server_cmd "$system" "$model" "$PORT") | grep '^PROBE ' | sed 's/^PROBE //')
    record "$system" probe "$model" 0 "$line"
    log "  $system $model: $line"
  done
done

# ------------------------------------------------------------------------------------------------------ report
{
  echo "## Model-server benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), \
$(free -g | awk '/Mem:/{print $2}') GiB; load average before the run's end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Java: $(java -version 2>&1 | head -1); peers' venv: $(grep -v '^#' "$BENCH/peers/requirements.txt" | tr '\n' ' ')"
  echo "wrk runs: ${WARMUP} s warm-up (discarded) + ${DURATION} s measured; (a): ${ORT_WARMUP} s + ${ORT_DURATION} s;"
  echo "each cell the median of $ROUNDS interleaved round(s) by req/s."
  python3 "$BENCH/report.py" "$RESULTS"
  echo
  echo "Bench took $(($(date +%s) - started_at)) s."
} | tee "$OUT/results.md"

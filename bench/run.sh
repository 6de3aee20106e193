#!/usr/bin/env bash
# The model-server benchmark, in one command: bench/run.sh
#
# Builds what it needs (model-server classes via ./mvnw, the Java harness under bench/java with javac, the
# FastAPI peer's virtualenv), writes the two ONNX models with the test utility OnnxModels, then measures on
# this machine, with the same model files and request bodies:
#   (a) ONNX Runtime OrtSession.run() in process (bench/java/.../OrtBench.java), the ceiling;
#   (b) model-server serve under wrk;
#   (c) FastAPI + uvicorn + onnxruntime (bench/peers/fastapi_server.py) under the same wrk load;
# for the tiny and the compute-heavy MLP at concurrency 1 and 16, in each CPU layout of LAYOUTS:
#   pinned: the server (or the in-process harness) on the last CPU, wrk on CPU 0 (taskset), so the load
#           generator does not steal the server's cycles; the server gets exactly one core;
#   shared: no pinning; server and wrk share every core, as an unpinned load test on a small box does.
# Then start -> ready and first request vs warm latency (bench/probe.py, 5 starts, no load, no pinning).
# Prints Markdown tables and the target verdicts; raw output stays in bench/out/.
#
# Knobs (environment): DURATION (s per measured wrk run, 15), WARMUP (s of wrk warm-up, discarded, 5),
# ORT_DURATION (10), ORT_WARMUP (3), STARTS (5), LAYOUTS ("pinned shared"), PORT (18080; uses PORT..PORT+1).
# Load goes to 127.0.0.1 only; every loop is bounded; every process it starts is stopped by pid on exit.
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-5}
ORT_DURATION=${ORT_DURATION:-10}
ORT_WARMUP=${ORT_WARMUP:-3}
STARTS=${STARTS:-5}
LAYOUTS=${LAYOUTS:-pinned shared}
PORT=${PORT:-18080}
PEER_PORT=$((PORT + 1))

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
OUT=$BENCH/out
VENV=$BENCH/.venv
RESULTS=$OUT/results.jsonl
LOGS=$OUT/logs
started_at=$(date +%s)

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - started_at))" "$*" >&2; }

PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------- prerequisites
if ! command -v wrk >/dev/null; then
  log "installing wrk from Debian"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
for port in "$PORT" "$PEER_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is already in use; set PORT=..." >&2
    exit 1
  fi
done
rm -rf "$OUT"
mkdir -p "$OUT/classes" "$OUT/test-classes" "$OUT/bench-classes" "$LOGS" "$OUT/tmp"
: >"$RESULTS"

# ---------------------------------------------------------------------------------------------------- build
log "building model-server classes (./mvnw -pl model-server test-compile dependency:build-classpath)"
mvn_args=(-q -pl model-server test-compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt"
  -Dmdep.includeScope=runtime)
./mvnw -o "${mvn_args[@]}" >"$LOGS/maven.log" 2>&1 || ./mvnw "${mvn_args[@]}" >>"$LOGS/maven.log" 2>&1 || {
  tail -30 "$LOGS/maven.log" >&2
  exit 1
}
# A private copy of the classes: others may rebuild model-server/target while this runs.
cp -r model-server/target/classes/. "$OUT/classes/"
cp -r model-server/target/test-classes/. "$OUT/test-classes/"
CP="$OUT/classes:$(cat "$OUT/cp.txt")"
javac -d "$OUT/bench-classes" -cp "$OUT/test-classes:$CP" $(find "$BENCH/java" -name '*.java')
# The classpath goes to java in an @argfile (as the jib image's entry point does), never as a long -cp: with a
# command line over ~4 KB, ONNX Runtime 1.29.0's Java binding segfaults while loading its native library
# (OrtEnvironment.getEnvironment(), no hs_err file), with or without DJL. See docs/benchmarks.md.
printf -- '-cp\n%s\n' "$CP" >"$OUT/server-cp.args"
printf -- '-cp\n%s\n' "$OUT/bench-classes:$CP" >"$OUT/harness-cp.args"

log "FastAPI peer's virtualenv ($VENV)"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/peers/requirements.txt" >"$LOGS/pip.log" 2>&1 || {
  tail -30 "$LOGS/pip.log" >&2
  exit 1
}

log "writing the models with OnnxModels"
java -cp "$OUT/bench-classes:$OUT/test-classes" io.modelship.bench.GenerateModels "$OUT/models" | tee "$LOGS/models.txt" >&2

# ------------------------------------------------------------------------------------------------- machinery
CPUS=$(nproc)
LAST_CPU=$((CPUS - 1))
export OPT_OUT_TRACKING=true DJL_OFFLINE=true

server_cmd() { # system model port
  case "$1" in
    b) echo java -Djava.io.tmpdir="$OUT/tmp" @"$OUT/server-cp.args" io.modelship.server.Main serve --model-dir "$OUT/models/$2" \
      --model-name "$2" --host 127.0.0.1 --port "$3" --device cpu ;;
    c) echo "$VENV/bin/python" "$BENCH/peers/fastapi_server.py" --model-dir "$OUT/models/$2" --model-name "$2" \
      --host 127.0.0.1 --port "$3" ;;
  esac
}

wait_ready() { # port pid
  for _ in $(seq 1 600); do # at most 60 s
    kill -0 "$2" 2>/dev/null || { echo "server $2 exited before ready" >&2; return 1; }
    curl -sf -o /dev/null "http://127.0.0.1:$1/v2/health/ready" && return 0
    sleep 0.1
  done
  echo "server on port $1 not ready within 60 s" >&2
  return 1
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done # 30 s
  echo "pid $1 ignored SIGTERM for 30 s; killing it" >&2
  kill -KILL "$1" 2>/dev/null || true
}

record() { # layout system model c json
  printf '{"layout":"%s","system":"%s","model":"%s","c":%s,"data":%s}\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

# (b) and (c): one server process per model and layout, wrk warm-up then the measured run at each concurrency.
http_cells() { # layout system model server_cpus load_cpus
  local layout=$1 system=$2 model=$3 scpus=$4 lcpus=$5 port pid url
  port=$([[ $system == b ]] && echo "$PORT" || echo "$PEER_PORT")
  url="http://127.0.0.1:$port/v2/models/$model/infer"
  # shellcheck disable=SC2046
  taskset -c "$scpus" $(server_cmd "$system" "$model" "$port") >"$LOGS/$layout-$system-$model.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_ready "$port" "$pid"
  # One checked request before any load: the answer must be 200 with outputs.
  curl -sf -H 'Content-Type: application/json' --data-binary @"$OUT/models/bodies/$model.json" "$url" \
    >"$LOGS/$layout-$system-$model.first.json"
  grep -q '"outputs"' "$LOGS/$layout-$system-$model.first.json"
  for c in 1 16; do
    local threads=1 # one wrk thread per CPU wrk may use, never more than connections
    [[ $c -gt 1 && $lcpus == *-* ]] && threads=2
    BODY_FILE="$OUT/models/bodies/$model.json" timeout $((WARMUP + 60)) taskset -c "$lcpus" \
      wrk -t"$threads" -c"$c" -d"${WARMUP}s" --timeout 10s -s "$BENCH/wrk/infer.lua" "$url" \
      >"$LOGS/$layout-$system-$model-c$c.warmup.txt" 2>&1
    BODY_FILE="$OUT/models/bodies/$model.json" timeout $((DURATION + 60)) taskset -c "$lcpus" \
      wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH/wrk/infer.lua" "$url" \
      >"$LOGS/$layout-$system-$model-c$c.txt" 2>&1
    local line
    line=$(grep '^WRK ' "$LOGS/$layout-$system-$model-c$c.txt" | sed 's/^WRK //')
    record "$layout" "$system" "$model" "$c" "$line"
    log "  $layout $system $model c=$c: $line"
  done
  if [[ $system == b ]]; then
    curl -sf "http://127.0.0.1:$port/metrics" >"$LOGS/$layout-$system-$model.metrics.txt" || true
  fi
  stop_pid "$pid"
}

# ----------------------------------------------------------------------------------------------- measurements
for layout in $LAYOUTS; do
  if [[ $layout == pinned && $CPUS -ge 2 ]]; then
    server_cpus=$LAST_CPU load_cpus=0
  else
    server_cpus=0-$LAST_CPU load_cpus=0-$LAST_CPU
  fi
  log "layout $layout: server/harness on CPUs $server_cpus, wrk on CPUs $load_cpus"
  for model in tiny heavy; do
    log " (a) OrtSession.run in process, $model"
    timeout $((2 * (ORT_WARMUP + ORT_DURATION) + 120)) taskset -c "$server_cpus" \
      java -Djava.io.tmpdir="$OUT/tmp" @"$OUT/harness-cp.args" io.modelship.bench.OrtBench \
      "$OUT/models/$model/model.onnx" "$model" "$ORT_WARMUP" "$ORT_DURATION" 1 16 \
      >"$LOGS/$layout-a-$model.txt" 2>&1
    while read -r line; do
      json=${line#ORT }
      c=$(sed -E 's/.*"threads":([0-9]+).*/\1/' <<<"$json")
      record "$layout" a "$model" "$c" "$json"
      log "  $layout a $model c=$c: $json"
    done < <(grep '^ORT ' "$LOGS/$layout-a-$model.txt")
    log " (b) model-server, $model"
    http_cells "$layout" b "$model" "$server_cpus" "$load_cpus"
    log " (c) FastAPI peer, $model"
    http_cells "$layout" c "$model" "$server_cpus" "$load_cpus"
  done
done

log "start -> ready and first request ($STARTS starts each, no load, no pinning)"
for model in tiny heavy; do
  for system in b c; do
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
  echo "Java: $(java -version 2>&1 | head -1); FastAPI venv: $(grep -v '^#' "$BENCH/peers/requirements.txt" | tr '\n' ' ')"
  echo "wrk runs: ${WARMUP} s warm-up (discarded) + ${DURATION} s measured; (a): ${ORT_WARMUP} s + ${ORT_DURATION} s."
  python3 "$BENCH/report.py" "$RESULTS"
  echo
  echo "Bench took $(($(date +%s) - started_at)) s."
} | tee "$OUT/results.md"

#!/usr/bin/env bash
# Shared by the model-server benchmarks (bench/run.sh, bench/binary.sh): the build, the models and request bodies,
# starting and stopping servers. Sourced, never run; the caller sets DURATION, WARMUP, PORT, PEER_PORT first.
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
OUT=${OUT:-$BENCH/out}
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

if [[ ${NEED_PEER:-1} == 1 ]]; then
  log "the peers' virtualenv ($VENV: FastAPI, KServe)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/peers/requirements.txt" >"$LOGS/pip.log" 2>&1 || {
    tail -30 "$LOGS/pip.log" >&2
    exit 1
  }
fi

log "writing the models with OnnxModels"
# The bodies are encoded with the server's own codec (binary tensor data too): the whole classpath, as an argfile.
printf -- '-cp\n%s\n' "$OUT/bench-classes:$OUT/test-classes:$CP" >"$OUT/models-cp.args"
java @"$OUT/models-cp.args" io.modelship.bench.GenerateModels "$OUT/models" | tee "$LOGS/models.txt" >&2

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
    d) echo "$VENV/bin/python" "$BENCH/peers/kserve_server.py" --model-dir "$OUT/models/$2" --model-name "$2" \
      --port "$3" ;;
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


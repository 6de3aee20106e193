#!/usr/bin/env bash
# In-place swaps under load, in one command: bench/inplace.sh
#
# One model server serves version v0 of the heavy model (2.6 M parameters, 10 MiB) while 16 clients post requests
# without pause. It is then told over /admin/versions, SWAPS times in a row, to serve the next version instead:
# each swap downloads the next version over HTTP (a local http.server), loads and warms it up beside the one
# serving, switches, and unloads the old one, as an in-place rollout's promotion does. Prints a Markdown table per
# swap (time, the server's RSS after the old version was unloaded, p99 during the swap and in the steady seconds
# after it) and a summary (requests, errors, p99 ratio swap/steady, RSS growth). Raw output in bench/out-inplace/.
#
# Knobs (environment): SWAPS (20), CONCURRENCY (16), STEADY (s between swaps, 5), PORT (18097), SERVER_JAVA_OPTS
# (e.g. "-Xms512m -Xmx512m -XX:+AlwaysPreTouch": a heap that cannot grow, so RSS shows native memory alone). The
# server runs on the last CPU, the clients and the file server on CPU 0. Load goes to 127.0.0.1 only; every process
# it starts is stopped on exit.
set -euo pipefail

SWAPS=${SWAPS:-20}
CONCURRENCY=${CONCURRENCY:-16}
STEADY=${STEADY:-5}
PORT=${PORT:-18097}
PEER_PORT=$((PORT + 1))
DURATION=0 WARMUP=0
OUT=$(cd "$(dirname "$0")" && pwd)/out-inplace
NEED_PEER=0
source "$(dirname "$0")/common.sh"

server_cpus=$LAST_CPU load_cpus=0
[[ $CPUS -ge 2 ]] || { server_cpus=0; load_cpus=0; }
TOKEN=bench-admin-token
printf '%s\n' "$TOKEN" >"$OUT/admin-token"

log "writing $((SWAPS + 1)) versions of the heavy model"
java @"$OUT/models-cp.args" io.modelship.bench.InPlaceSwaps "$OUT/versions" write "$SWAPS" | tee "$LOGS/versions.txt" >&2

log "serving the versions over HTTP on 127.0.0.1:$PEER_PORT"
taskset -c "$load_cpus" python3 -m http.server "$PEER_PORT" --bind 127.0.0.1 --directory "$OUT/versions" \
  >"$LOGS/http-server.log" 2>&1 &
PIDS+=($!)

log "model server on CPU $server_cpus, clients on CPU $load_cpus"
MODELSHIP_ADMIN_TOKEN_FILE="$OUT/admin-token" MODELSHIP_VERSIONS_DIR="$OUT/tmp/versions" \
  taskset -c "$server_cpus" java ${SERVER_JAVA_OPTS:-} -Djava.io.tmpdir="$OUT/tmp" @"$OUT/server-cp.args" \
  io.modelship.server.Main serve \
  --model-dir "$OUT/versions/v0" --model-name heavy --model-version v0 --host 127.0.0.1 --port "$PORT" --device cpu \
  >"$LOGS/server.log" 2>&1 &
server=$!
PIDS+=("$server")
wait_ready "$PORT" "$server"

log "$SWAPS swaps at concurrency $CONCURRENCY, $STEADY s steady between them"
taskset -c "$load_cpus" java @"$OUT/models-cp.args" io.modelship.bench.InPlaceSwaps "$OUT/versions" run "$server" \
  "$PORT" "http://127.0.0.1:$PEER_PORT" "$TOKEN" "$SWAPS" "$CONCURRENCY" "$STEADY" "$OUT/models/bodies/heavy.json" \
  | tee "$OUT/inplace.md"
grep -q '^RESULT ' "$OUT/inplace.md"

#!/usr/bin/env bash
# How soon a moved MLflow alias becomes a canary (see docs/rollout-benchmarks.md): a real mlflow server on the node,
# the default tracking interval (30 s), 10 moves, each promoted before the next. Needs what the end-to-end tier
# needs (Linux, root); brings the one-node cluster up and tears it down like the e2e tests. About 10 minutes.
#
#   bench/alias-move.sh                      # 10 moves
#   bench/alias-move.sh -Dbench.moves=3
#
# Output: bench/alias-move/out/results.md (OUT=dir to change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/alias-move/out}
mkdir -p "$out"
echo "[bench] building the model server and the operator (jars and test jars the bench uses)"
./mvnw -B -q install -DskipTests -pl model-server,operator
echo "[bench] running AliasMoveBench on the real cluster; progress below"
./mvnw -B -pl e2e test -Dtest=AliasMoveBench -Dsurefire.failIfNoSpecifiedTests=false -Dbench.out="$PWD/$out" "$@"
echo "[bench] results: $out/results.md"

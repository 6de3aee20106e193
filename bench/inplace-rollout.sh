#!/usr/bin/env bash
# Time from a new model version to 100 %, in place versus with a pod canary, in one run on the real one-node
# cluster (see docs/rollout-benchmarks.md). Needs what the end-to-end tier needs (Linux, root); brings the cluster
# up and tears it down like the e2e tests. About 6 minutes.
#
#   bench/inplace-rollout.sh                      # 3 rounds
#   bench/inplace-rollout.sh -Dbench.rounds=5
#
# Output: bench/inplace-rollout/out/results.md (OUT=dir to change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/inplace-rollout/out}
mkdir -p "$out"
echo "[bench] building the model server and the operator (jars and test jars the bench uses)"
./mvnw -B -q install -DskipTests -pl model-server,operator
echo "[bench] running InPlaceBench on the real cluster; progress below"
./mvnw -B -pl e2e test -Dtest=InPlaceBench -Dsurefire.failIfNoSpecifiedTests=false -Dbench.out="$PWD/$out" "$@"
echo "[bench] results: $out/results.md"

#!/usr/bin/env bash
# A canary's p99 in its first minute of traffic against warm pods' in the same minute, a pod canary and an in-place
# one, on the real one-node cluster (see docs/benchmarks.md). Needs what the end-to-end tier needs (Linux, root);
# brings the cluster up and tears it down like the e2e tests. About 12 minutes with the defaults.
#
#   bench/canary-first-minute.sh                           # 3 rounds, 40 requests/s per ModelDeployment
#   bench/canary-first-minute.sh -Dbench.rounds=5 -Dbench.rate=80
#
# Output: bench/canary-first-minute/out/results.md (OUT=dir to change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/canary-first-minute/out}
mkdir -p "$out"
echo "[bench] building the model server and the operator (jars and test jars the bench uses)"
./mvnw -B -q install -DskipTests -pl model-server,operator
echo "[bench] running CanaryFirstMinuteBench on the real cluster; progress below"
./mvnw -B -pl e2e test -Dtest=CanaryFirstMinuteBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.out="$PWD/$out" "$@"
echo "[bench] results: $out/results.md"

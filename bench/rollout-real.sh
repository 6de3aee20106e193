#!/usr/bin/env bash
# The rollout benchmark on the real one-node cluster (see docs/rollout-benchmarks.md): healthy new versions must be
# promoted with no client error, faulty ones (slower, 5xx, 4xx for every request, crashing) rolled back fast, all
# with default settings and traffic through the client Service. Needs what the end-to-end tier needs (Linux, root);
# brings the cluster up and tears it down like the e2e tests. About 40 minutes with the defaults.
#
#   bench/rollout-real.sh                                   # 10 healthy, 2 x (slow, errors, schema, crash)
#   bench/rollout-real.sh -Dbench.healthy=2 -Dbench.faultRepeats=1 -Dbench.faults=errors,schema
#
# Output: bench/rollout-real/out/results.md, runs.csv, events.txt, operator.log (OUT=dir to change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/rollout-real/out}
mkdir -p "$out"
echo "[bench] building the model server and the operator (jars and test jars the bench uses)"
./mvnw -B -q install -DskipTests -pl model-server,operator
echo "[bench] running RolloutBench on the real cluster; progress below"
./mvnw -B -pl e2e test -Dtest=RolloutBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.out="$PWD/$out" "$@"
echo "[bench] results: $out/results.md"

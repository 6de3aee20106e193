#!/usr/bin/env bash
# The operator against 1,000 ModelDeployments on the real one-node cluster (see docs/reliability.md, Scale): time
# until all are reconciled, API writes per minute at steady state, the operator's heap after a full GC and RSS,
# and how soon one change is acted on while the rest idle. Needs what the end-to-end tier needs (Linux, root);
# brings the cluster up and tears it down like the e2e tests. About 8 minutes.
#
#   bench/scale.sh                                         # 1,000 ModelDeployments, 2 minutes of steady state
#   bench/scale.sh -Dbench.count=200 -Dbench.steadySeconds=60
#
# Output: bench/scale/out/results.md (OUT=dir to change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/scale/out}
mkdir -p "$out"
echo "[bench] building the model server and the operator (jars and test jars the bench uses)"
./mvnw -B -q install -DskipTests -pl model-server,operator
echo "[bench] running ScaleBench on the real cluster; progress below"
./mvnw -B -pl e2e test -Dtest=ScaleBench -Dsurefire.failIfNoSpecifiedTests=false -Dbench.out="$PWD/$out" "$@"
echo "[bench] results: $out/results.md"

#!/usr/bin/env bash
# The rollout benchmark, in one command: bench/rollout.sh [RolloutBench options]
#
# Builds what it needs (model-server installed for its test-jar, the operator's test classes), then runs
# io.modelship.operator.bench.RolloutBench: the real operator (default settings, real clock, production
# MetricsCanaryAnalysis scraping pods directly) against fabric8's mock apiserver, with real model servers on
# 127.0.0.1 as the pods and a load generator splitting real infer requests by ready pods (service mode).
# Measures time to roll back a failing canary and counts false rollbacks of healthy canaries under noisy load.
# Never part of the test run (the bench classes do not end in Test/IT). Results: bench/rollout/out/results.md,
# runs.csv, and the operator's log rollout.log.
#
# Options (passed through): --rollback-runs N (10 per scenario) --healthy-runs N (20) --parallel P (2)
#   --rate R (120 req/s per ModelDeployment) --max-minutes M (13)
#   --scenarios broken,turns-bad,low-traffic,healthy,slow-pods (all by default, ~12 min)
#   --low-traffic-seconds (75) --low-traffic-rate (8) --slow-pod-seconds (15)
#   --jitter-p P (0.005) --jitter-min-ms (2) --jitter-max-ms (20)
# Environment: SKIP_BUILD=1 reuses the last build.
# Everything stays on 127.0.0.1; every loop in the bench is bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/rollout/out
mkdir -p "$OUT"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "[rollout.sh] building model-server (install, for its test-jar) and the operator's test classes" >&2
  build() { "$@" >>"$OUT/build.log" 2>&1 || { tail -50 "$OUT/build.log" >&2; echo "[rollout.sh] build failed: $*" >&2; exit 1; }; }
  : >"$OUT/build.log"
  build ./mvnw -q -o -pl model-server install -DskipTests
  build ./mvnw -q -o -pl operator test-compile
  build ./mvnw -q -o -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$OUT/cp.txt"
fi

# ONNX Runtime 1.29 crashes when the java command line is longer than ~3.9 KB: the classpath goes in an argfile.
{
  printf -- '-cp\n'
  printf '%s:%s:%s\n' "$PWD/operator/target/test-classes" "$PWD/operator/target/classes" "$(cat "$OUT/cp.txt")"
  printf -- '-Dlogback.configurationFile=%s\n' "$PWD/bench/rollout/logback.xml"
  printf -- '-Drollout.log=%s\n' "$PWD/$OUT/rollout.log"
  printf -- '-Djava.util.logging.config.file=%s\n' "$PWD/bench/rollout/jul.properties"
  printf -- '-Dmodelship.crd.committed=%s\n' "$PWD/crds/modeldeployments.modelship.io-v1.yml"
} > "$OUT/java.args"

echo "[rollout.sh] $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; running RolloutBench $*" >&2
# ONNX Runtime prints one native error line per failing inference (the failing canary's requests) on stderr:
# kept out of the console, in $OUT/ort-stderr.log.
java @"$OUT/java.args" io.modelship.operator.bench.RolloutBench --out "$OUT" "$@" \
  2> >(tee "$OUT/ort-stderr.log" | grep --line-buffered -v 'onnxruntime' >&2)

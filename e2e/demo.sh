#!/usr/bin/env bash
# The README's run command: a real rollout on this machine (see Demo.java, or run it with --help).
# Builds what it needs with progress, then runs the demo; its exit status is the demo's.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  if [[ "$arg" == "--help" || "$arg" == "-h" ]]; then
    help_only=1
  fi
done

if [[ -z "${help_only:-}" || ! -f e2e/target/test-classes/io/modelship/e2e/Demo.class ]]; then
  started=$SECONDS
  echo "[demo] building the model server, the operator and the demo (the first build downloads dependencies: a few minutes)"
  # Progress without Maven's noise: one line per module built, and any error.
  ./mvnw -B -ntp install -DskipTests 2>&1 \
    | grep --line-buffered -E '^\[INFO\] Building .*\[[0-9]+/[0-9]+\]|^\[INFO\] BUILD|^\[ERROR\]' | sed -u 's/^/  /'
  echo "[demo] built in $((SECONDS - started)) s"
fi
./mvnw -B -q -ntp -pl e2e org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/demo.classpath >/dev/null
version=$(sed -n 's:.*<version>\(.*-SNAPSHOT\)</version>.*:\1:p' pom.xml | head -1)
version=${version:-dev}
exec java -Dmodelship.root="$PWD" -Dmodelship.version="$version" -Dlogback.configurationFile=demo-logback.xml \
  -cp "e2e/target/test-classes:e2e/target/classes:$(cat e2e/target/demo.classpath)" io.modelship.e2e.Demo "$@"

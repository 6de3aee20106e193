#!/usr/bin/env bash
# Creates (once) a virtualenv holding a pinned MLflow server for the fetch tests and prints the path of its
# `mlflow` executable on the last line of stdout. Reused when present: a marker written after a complete
# install tells a finished venv from one a killed run left half-built, which is removed and rebuilt.
set -euo pipefail

version="${1:?usage: mlflow-venv.sh MLFLOW_VERSION}"
cache="${MODELSHIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
venv="$cache/mlflow-$version-venv"
marker="$venv/.modelship-complete"

mkdir -p "$cache"
# Two test JVMs (or a developer and CI) may race to build the same venv; the lock serialises them.
exec 9>"$cache/mlflow-$version.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

if [[ ! -f "$marker" ]]; then
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "mlflow-venv.sh: python3 cannot create virtualenvs here; install python3-venv (Debian/Ubuntu)" >&2
    exit 1
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$version" >&2
  "$venv/bin/mlflow" --version >&2
  touch "$marker"
fi

echo "$venv/bin/mlflow"

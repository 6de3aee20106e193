#!/usr/bin/env bash
# Creates (once) a virtualenv named NAME holding the pinned packages given, and prints its directory on the last
# line of stdout. The tests use it for real third-party Python programs: an MLflow server, the Open Inference
# Protocol clients. Reused when present: a marker written after a complete install tells a finished venv from one
# a killed run left half-built, which is removed and rebuilt.
set -euo pipefail

name="${1:?usage: venv.sh NAME PACKAGE==VERSION...}"
shift
[[ $# -gt 0 ]] || { echo "venv.sh: name at least one pinned package" >&2; exit 2; }
cache="${MODELSHIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
venv="$cache/$name-venv"
marker="$venv/.modelship-complete"

mkdir -p "$cache"
# Two test JVMs (or a developer and CI) may race to build the same venv; the lock serialises them.
exec 9>"$cache/$name.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

if [[ ! -f "$marker" ]]; then
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "venv.sh: python3 cannot create virtualenvs here; install python3-venv (Debian/Ubuntu)" >&2
    exit 1
  fi
  echo "venv.sh: installing $* into $venv (once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
  touch "$marker"
fi

echo "$venv"

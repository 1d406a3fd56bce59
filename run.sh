#!/usr/bin/env bash
# The two commands of this project (see README.md):
#   ./run.sh demo   install what is needed, then run the whole pipeline on the demo data
#   ./run.sh test   install what is needed, then run the tests
# Extra arguments go to snakemake (demo) or pytest (test).
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
}

setup() {
  local venv=.venv stamp=.venv/.installed
  if [ ! -x "$venv/bin/python" ]; then
    "$(find_python)" -m venv "$venv"
  fi
  local wanted
  wanted=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "== installing dependencies into $venv (first run takes a few minutes)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c requirements.lock -e '.[dev]'
    echo "$wanted" >"$stamp"
  fi
  export PATH="$PWD/$venv/bin:$PATH"
  export GX_ANALYTICS_ENABLED=false
}

case "${1:-}" in
  demo)
    shift
    setup
    exec snakemake --cores 2 --rerun-incomplete "$@"
    ;;
  test)
    shift
    setup
    exec python -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh demo [snakemake args] | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac

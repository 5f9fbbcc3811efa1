#!/bin/sh
# Recreate the agents-suite virtualenvs (if missing) and regenerate testdata/llm/<sdk>/.
# Usage: sh testdata/generate/agents/run_all.sh [sdk ...]   (default: agents-oi agents-logfire langgraph-oi)
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs), one per sdk.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENVS=${VENVS:-/tmp/llm-venvs}
PY=${PYTHON:-python3}
[ $# -gt 0 ] || set -- agents-oi agents-logfire langgraph-oi
for sdk in "$@"; do
  if [ ! -x "$VENVS/$sdk/bin/python" ]; then
    mkdir -p "$VENVS"
    "$PY" -m venv "$VENVS/$sdk"
    "$VENVS/$sdk/bin/pip" install -q -r "$HERE/requirements-$sdk.txt"
  fi
  echo "== $sdk ($VENVS/$sdk)"
  "$VENVS/$sdk/bin/python" "$HERE/run.py" --sdk "$sdk"
done

#!/bin/sh
# Recreate the agents-suite virtualenvs (if missing) and regenerate testdata/llm/<sdk>/.
# Usage: sh testdata/generate/agents/run_all.sh [sdk ...]   (default: agents-oi agents-logfire langgraph-oi)
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs), one per sdk.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
[ $# -gt 0 ] || set -- agents-oi agents-logfire langgraph-oi
for sdk in "$@"; do
  ensure_venv "$sdk" "$HERE/requirements-$sdk.txt"
  echo "== $sdk ($VENVS/$sdk)"
  "$VENVS/$sdk/bin/python" "$HERE/run.py" --sdk "$sdk"
done

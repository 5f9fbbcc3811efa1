#!/bin/sh
# Recreate the per-SDK virtualenvs (if missing) and regenerate testdata/llm/<sdk>/.
# Usage: sh testdata/generate/llm/run_all.sh [sdk ...]     (default: all seven)
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
[ $# -gt 0 ] || set -- oi otel-genai openllmetry langfuse sideseat catalyst langfuse+oi
for sdk in "$@"; do
  case $sdk in
    otel-genai) venv=otelv2 ;;
    langfuse+oi) venv=langfuse-oi ;;
    *) venv=$sdk ;;
  esac
  ensure_venv "$venv" "$HERE/requirements-$(echo "$sdk" | sed 's/+/-plus-/').txt"
  echo "== $sdk ($VENVS/$venv)"
  "$VENVS/$venv/bin/python" "$HERE/run.py" --sdk "$sdk"
done

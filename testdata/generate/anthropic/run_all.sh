#!/bin/sh
# Recreate the per-SDK virtualenvs (if missing) and regenerate testdata/llm/<sdk>/ for the Anthropic suite.
# Usage: sh testdata/generate/anthropic/run_all.sh [sdk ...]
#   sdks: anthropic-oi anthropic-traceloop anthropic-logfire anthropic-otel-genai anthropic-sdk anthropic-oi-plus-sdk
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
[ $# -gt 0 ] || set -- anthropic-oi anthropic-traceloop anthropic-logfire anthropic-otel-genai anthropic-sdk anthropic-oi-plus-sdk
for sdk in "$@"; do
  case $sdk in
    anthropic-oi-plus-sdk) venv=anthropic-oi ;;  # same packages as anthropic-oi
    *) venv=$sdk ;;
  esac
  ensure_venv "$venv" "$HERE/requirements-$sdk.txt" --pre
  echo "== $sdk ($VENVS/$venv)"
  "$VENVS/$venv/bin/python" "$HERE/run.py" --sdk "$sdk"
done

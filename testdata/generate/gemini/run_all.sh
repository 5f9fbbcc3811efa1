#!/bin/sh
# Recreate the Gemini virtualenvs (if missing) and regenerate testdata/llm/gemini-*/.
# Usage: sh testdata/generate/gemini/run_all.sh [sdk ...]
#   sdk: gemini-oi gemini-otel-genai gemini-logfire gemini-traceloop (default: all four)
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs), one per SDK,
# named like the SDK.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENVS=${VENVS:-/tmp/llm-venvs}
PY=${PYTHON:-python3}
[ $# -gt 0 ] || set -- gemini-oi gemini-otel-genai gemini-logfire gemini-traceloop
for sdk in "$@"; do
  if [ ! -x "$VENVS/$sdk/bin/python" ]; then
    mkdir -p "$VENVS"
    "$PY" -m venv "$VENVS/$sdk"
    "$VENVS/$sdk/bin/pip" install -q -r "$HERE/requirements-$sdk.txt"
  fi
  echo "== $sdk ($VENVS/$sdk)"
  "$VENVS/$sdk/bin/python" "$HERE/run_gemini.py" --sdk "$sdk"
done
for sdk in "$@"; do
  python3 "$HERE/compare_gemini.py" "$sdk" | tail -1
done

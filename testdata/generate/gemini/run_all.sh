#!/bin/sh
# Recreate the Gemini virtualenvs (if missing) and regenerate testdata/llm/gemini-*/.
# Usage: sh testdata/generate/gemini/run_all.sh [sdk ...]
#   sdk: gemini-oi gemini-otel-genai gemini-logfire gemini-traceloop (default: all four)
# Needs python3.11 and PyPI. Venvs live outside the repo, in $VENVS (/tmp/llm-venvs), one per SDK,
# named like the SDK.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
[ $# -gt 0 ] || set -- gemini-oi gemini-otel-genai gemini-logfire gemini-traceloop
for sdk in "$@"; do
  ensure_venv "$sdk" "$HERE/requirements-$sdk.txt"
  echo "== $sdk ($VENVS/$sdk)"
  "$VENVS/$sdk/bin/python" "$HERE/run_gemini.py" --sdk "$sdk"
done
for sdk in "$@"; do
  python3 "$HERE/compare_gemini.py" "$sdk" | tail -1
done

#!/bin/sh
# Recreate the langfuse2 virtualenv (if missing) and regenerate testdata/llm/langfuse2/ and
# testdata/expected/llm/langfuse2/.
# Usage: sh testdata/generate/langfuse2/run_all.sh [run.py options, e.g. --only a_openai,f_low]
# Needs python3.11 and PyPI. The venv lives outside the repo, in $VENVS (/tmp/llm-venvs).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
ensure_venv langfuse2 "$HERE/requirements-langfuse2.txt"
echo "== langfuse2 ($VENVS/langfuse2)"
"$VENVS/langfuse2/bin/python" "$HERE/run.py" "$@"

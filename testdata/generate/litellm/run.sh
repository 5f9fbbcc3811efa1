#!/bin/sh
# Recreate the LiteLLM venv (if missing) and regenerate testdata/llm/litellm/ and
# testdata/expected/llm/litellm/{truth,index}.json.  Needs python3.11 and PyPI.
# Extra args go to run_litellm.py (e.g. --default-spans --out /tmp/x).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENVS=${VENVS:-/tmp/llm-venvs}
PY=${PYTHON:-python3}
if [ ! -x "$VENVS/litellm/bin/python" ]; then
  mkdir -p "$VENVS"
  "$PY" -m venv "$VENVS/litellm"
  "$VENVS/litellm/bin/pip" install -q -r "$HERE/requirements-litellm.txt"
fi
"$VENVS/litellm/bin/python" "$HERE/run_litellm.py" "$@"
# the optional proxy dump (testdata/llm/litellm-proxy/): only with PROXY=1
if [ "${PROXY:-0}" = 1 ]; then
  if [ ! -x "$VENVS/litellm-proxy/bin/python" ]; then
    "$PY" -m venv "$VENVS/litellm-proxy"
    "$VENVS/litellm-proxy/bin/pip" install -q -r "$HERE/requirements-litellm-proxy.txt"
  fi
  "$VENVS/litellm-proxy/bin/python" "$HERE/run_litellm_proxy.py"
fi

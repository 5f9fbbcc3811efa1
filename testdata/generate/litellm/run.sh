#!/bin/sh
# Recreate the LiteLLM venv (if missing) and regenerate testdata/llm/litellm/ and
# testdata/expected/llm/litellm/{truth,index}.json.  Needs python3.11 and PyPI.
# Extra args go to run_litellm.py (e.g. --default-spans --out /tmp/x).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../venv.sh"  # VENVS, PY, ensure_venv
ensure_venv litellm "$HERE/requirements-litellm.txt"
"$VENVS/litellm/bin/python" "$HERE/run_litellm.py" "$@"
# the optional proxy dump (testdata/llm/litellm-proxy/): only with PROXY=1
if [ "${PROXY:-0}" = 1 ]; then
  ensure_venv litellm-proxy "$HERE/requirements-litellm-proxy.txt"
  "$VENVS/litellm-proxy/bin/python" "$HERE/run_litellm_proxy.py"
fi

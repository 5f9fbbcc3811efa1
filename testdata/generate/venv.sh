# Sourced by the suites' run_all.sh / run.sh (POSIX sh): the per-SDK virtualenvs.
# Venvs live outside the repo, in $VENVS (default /tmp/llm-venvs); $PYTHON (default
# python3) creates them.
VENVS=${VENVS:-/tmp/llm-venvs}
PY=${PYTHON:-python3}

# ensure_venv NAME REQUIREMENTS [PIP-OPTION ...]
# Creates $VENVS/NAME and installs REQUIREMENTS into it, unless it already has a python.
ensure_venv() {
  _venv=$1 _req=$2
  shift 2
  if [ ! -x "$VENVS/$_venv/bin/python" ]; then
    mkdir -p "$VENVS"
    "$PY" -m venv "$VENVS/$_venv"
    "$VENVS/$_venv/bin/pip" install -q "$@" -r "$_req"
  fi
}

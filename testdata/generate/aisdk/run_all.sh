#!/bin/sh
# Recreate the Node folders (if missing) and regenerate testdata/llm/<sdk>/ for the aisdk suite.
# Usage: sh testdata/generate/aisdk/run_all.sh [sdk ...]   (default: aisdk4 aisdk7 aisdk7-full)
# Needs node + npm (system Node 20 runs ai 4; ai 7 needs Node >= 22, which comes from npm's
# `node` package pinned in package-aisdk7.json) and python3 (stdlib only).
# Node folders live outside the repo, in $LLM_NODE (/tmp/llm-node/aisdk4, /tmp/llm-node/aisdk7).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
LLM_NODE=${LLM_NODE:-/tmp/llm-node}
export LLM_NODE
[ $# -gt 0 ] || set -- aisdk4 aisdk7 aisdk7-full
for sdk in "$@"; do
  case $sdk in
    aisdk7-full) folder=aisdk7 ;;
    *) folder=$sdk ;;
  esac
  dir=$LLM_NODE/$folder
  if [ ! -d "$dir/node_modules/ai" ]; then
    mkdir -p "$dir"
    cp "$HERE/package-$folder.json" "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
  echo "== $sdk ($dir)"
  python3 "$HERE/run.py" --sdk "$sdk"
done

#!/usr/bin/env bash
# Installs the real clients that the record tests drive (tests/record/): the
# OpenTelemetry Python SDK with its OTLP/HTTP and gRPC exporters, OpenInference's OpenAI
# instrumentation with the openai client, the langfuse 2.x SDK (a virtualenv, from
# requirements.txt) and the OpenTelemetry JS SDK with its OTLP exporters (npm ci, from
# package-lock.json). Into $TRACES_RECORD_CLIENTS (default target/record-clients); a
# second run with the same pins does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TRACES_RECORD_CLIENTS:-target/record-clients}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stamp=$(cat tests/record/requirements.txt tests/record/package-lock.json | sha256sum | cut -c1-16)
if [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
rm -rf "$dir/venv" "$dir/node"
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/record/requirements.txt
mkdir -p "$dir/node"
cp tests/record/package.json tests/record/package-lock.json "$dir/node/"
npm ci --silent --no-audit --no-fund --prefix "$dir/node"
echo "$stamp" > "$dir/stamp"

#!/usr/bin/env bash
# The benchmark: generates dumps, then times traces against DuckDB and tracecost on them.
#   bash benches/run.sh                  # 20k and 200k traces (about 0.3 and 3 GB)
#   BENCH_TRACES="2000" bash benches/run.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${BENCH_TRACES:-"20000 200000"}
cargo build --release --quiet
cargo build --release --quiet --example parse_floor
python3 -m venv benches/.venv
benches/.venv/bin/pip install --quiet --disable-pip-version-check 'duckdb==1.5.6' 'tracecost==0.1.0' 'pyspark==4.0.1'
# Spark (sql/ on Spark local[2]) needs a Java runtime.
command -v java >/dev/null || { apt-get update && apt-get install -y openjdk-17-jre-headless; }
# The OTLP protobuf classes of the record tests' clients: for the framed protobuf copy of
# each dump, and for the receiver under load.
bash scripts/record-clients.sh
mkdir -p benches/data
dumps=()
for n in $sizes; do
  f=benches/data/otlp-$n.jsonl
  [ -f "$f" ] || python3 benches/generate.py "$f" --traces "$n"
  [ -f "${f%.jsonl}.binpb" ] || target/record-clients/venv/bin/python benches/to_binpb.py "$f" "${f%.jsonl}.binpb"
  dumps+=("$f")
done
python3 benches/measure.py target/release/traces benches/.venv/bin/python "${dumps[@]}"
# The receiver under load, beside the import of the same requests.
target/record-clients/venv/bin/python benches/record_load.py target/release/traces "${dumps[0]}" 200000

"""Checks that DuckDB reads a store written by `traces import` as it is.

Imports testdata/otel into a fresh store with the debug binary, then queries the
Parquet segments with DuckDB and compares with the ground truth in testdata/expected.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import duckdb

root = pathlib.Path(__file__).resolve().parent.parent
truth = json.loads((root / "testdata/expected/otel.json").read_text())

with tempfile.TemporaryDirectory() as tmp:
    store = pathlib.Path(tmp) / "store"
    subprocess.run(
        ["cargo", "run", "-q", "--", "--store", str(store), "import", str(root / "testdata/otel")],
        check=True, cwd=root, stdout=subprocess.DEVNULL,
    )
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT trace_id, span_id, name, start_time_unix_nano,
                   json_extract_string(resource_attributes, '$."service.name"')
            FROM '{store}/spans/**/*.parquet' ORDER BY trace_id, span_id"""
    ).fetchall()
    want = [(s["trace_id"], s["span_id"], s["name"], s["start_time_unix_nano"], s["service_name"]) for s in truth["spans"]]
    if rows != want:
        sys.exit(f"DuckDB read {rows!r}\nexpected {want!r}")
    logs = con.execute(f"SELECT count(*) FROM '{store}/logs/**/*.parquet'").fetchone()[0]
    if logs != len(truth["logs"]):
        sys.exit(f"DuckDB read {logs} log records, expected {len(truth['logs'])}")
    print(f"duckdb: {len(rows)} spans and {logs} log records read from the store as written")

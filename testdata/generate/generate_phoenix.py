#!/usr/bin/env python3
"""Produce Arize Phoenix span exports from the same spans as testdata/otel/.

Run generate_otel.py first: this script re-posts testdata/otel/spans.otlp.pb
(the exact OTLP/HTTP protobuf body the OpenTelemetry Python SDK sent) to a
real Phoenix server, then reads the spans back with the Phoenix client as its
spans dataframe and saves it with pandas:

  testdata/otel/phoenix-spans.jsonl    df.to_json(orient="records", lines=True)
  testdata/otel/phoenix-spans.parquet  df.to_parquet()

If the dataframe is indexed by span id, the index is kept as a column named
`context.span_id` (the name Phoenix uses).

The server is `phoenix serve` run as a subprocess, bound to 127.0.0.1 on free
ports, with a throw-away PHOENIX_WORKING_DIR (SQLite) and telemetry and other
external resources disabled. It is stopped at the end.

Usage
-----
    python3 -m venv /tmp/phoenix-venv
    /tmp/phoenix-venv/bin/pip install -r testdata/generate/requirements-phoenix.txt
    /tmp/phoenix-venv/bin/python testdata/generate/generate_phoenix.py
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "otel"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"Phoenix did not come up at {url}")


def write_parquet(df, path: Path) -> None:
    """df.to_parquet(); object columns that pyarrow cannot type (e.g. an
    attribute holding a heterogeneous array such as [1, "two", 3.0, False])
    are stored as JSON text instead, and listed in the file's metadata."""
    import json  # noqa: PLC0415

    import pyarrow as pa  # noqa: PLC0415

    bad = []
    for col in df.columns:
        try:
            pa.Table.from_pandas(df[[col]], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            bad.append(col)
    if bad:
        df = df.copy()
        for col in bad:
            df[col] = df[col].map(lambda v: None if v is None else json.dumps(v, default=str))
        print(f"parquet: stored as JSON text (pyarrow could not type them): {bad}")
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"traces.json_text_columns"] = json.dumps(bad).encode()
    table = table.replace_schema_metadata(meta)
    import pyarrow.parquet as pq  # noqa: PLC0415

    pq.write_table(table, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out: Path = args.out
    body = (out / "spans.otlp.pb").read_bytes()

    port, grpc_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="phoenix-work-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_"))}
    env.update(
        {
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(port),
            "PHOENIX_GRPC_PORT": str(grpc_port),
            "PHOENIX_WORKING_DIR": workdir,
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
            "PHOENIX_ALLOWED_SANDBOX_PROVIDERS": "NONE",
            "DO_NOT_TRACK": "1",
        }
    )
    log = open(Path(workdir) / "phoenix.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "phoenix.server.main", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")

        req = urllib.request.Request(
            f"{base}/v1/traces",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-protobuf"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            print(f"POST /v1/traces -> {r.status}")

        from phoenix.client import Client  # noqa: PLC0415

        client = Client(base_url=base)
        df = None
        for _ in range(60):  # ingestion is asynchronous
            df = client.spans.get_spans_dataframe(project_identifier="default")
            if df is not None and len(df) >= 8:
                break
            time.sleep(1)
        assert df is not None and len(df) > 0, "no spans came back"

        print(f"dataframe index name: {df.index.name!r}")
        if df.index.name is not None and df.index.name not in df.columns:
            df = df.reset_index()  # keeps e.g. `context.span_id` as a column
        else:
            df = df.reset_index(drop=True)

        # pandas' current default (epoch milliseconds), made explicit so the
        # output does not change when pandas switches the default to ISO.
        df.to_json(out / "phoenix-spans.jsonl", orient="records", lines=True, date_format="epoch")
        write_parquet(df, out / "phoenix-spans.parquet")
        print(f"spans: {len(df)}")
        print("columns:", list(df.columns))
        print("dtypes:\n" + df.dtypes.to_string())
        return 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        print(f"phoenix log: {Path(workdir) / 'phoenix.log'}")


if __name__ == "__main__":
    sys.exit(main())

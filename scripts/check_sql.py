"""Checks that sql/cost_by_*.sql, run by DuckDB and by Spark SQL over a store's calls
tables and `traces pricing export`, give `traces cost --by X --format json` to the last
digit: every row, every field, and the total.

Stores: testdata's dumps with the hand-written fixture testdata/sql/ (dated prices,
reasoning at its own rate, a long-context tier, flex and priority, an unpriced model, a
trace two imports touched), whose costs are also checked against the hand-worked
testdata/sql/expected.json; and a dump of the benchmark generator (BENCH traces, 2,000
by default).

    python scripts/check_sql.py TRACES_BINARY [--traces N] [--no-spark]

Spark needs pyspark and a Java runtime; DuckDB needs duckdb.
"""
import argparse
import datetime
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

root = pathlib.Path(__file__).resolve().parent.parent
DIMS = {"session": "session_id", "user": "user_id", "model": "model", "day": "day"}
FIELDS = ["traces", "calls", "input_tokens", "cache_read_tokens", "cache_write_tokens",
          "output_tokens", "reasoning_tokens", "total_tokens", "cost_usd",
          "recorded_cost_usd", "unpriced_calls", "fallback_priced_calls"]
# Fields whose group sums are the total's; `traces` is counted per group, not summed.
ADDITIVE = FIELDS[1:]
PRICING = root / "testdata/sql/prices.toml"
TESTDATA = ["otel", "otel-js", "cloudwatch", "sideseat", "llm", "any-agent", "langfuse-exports"]


def duckdb_views(store, prices):
    """The README's two CREATE VIEW lines for DuckDB."""
    return [
        f"CREATE VIEW calls AS SELECT * FROM read_parquet('{store}/calls/**/*.parquet')",
        f"CREATE VIEW prices AS SELECT * FROM read_parquet('{prices}')",
    ]


def duckdb_days_views(store, prices, first, last):
    """The README's DuckDB views of the calls of some days only: read by day (hive
    partitioning), so that DuckDB opens only those days' files."""
    return [
        f"CREATE VIEW calls AS SELECT * FROM read_parquet('{store}/calls/**/*.parquet', hive_partitioning = true)"
        f" WHERE day BETWEEN DATE '{first}' AND DATE '{last}'",
        f"CREATE VIEW prices AS SELECT * FROM read_parquet('{prices}')",
    ]


def spark_days_views(store, prices, first, last):
    """The README's Spark views of the calls of some days only, by partition discovery."""
    return [
        f"CREATE OR REPLACE TEMPORARY VIEW calls_by_day USING parquet OPTIONS (path '{store}/calls')",
        f"CREATE OR REPLACE TEMPORARY VIEW calls AS SELECT * FROM calls_by_day"
        f" WHERE day BETWEEN DATE '{first}' AND DATE '{last}'",
        f"CREATE OR REPLACE TEMPORARY VIEW prices USING parquet OPTIONS (path '{prices}')",
    ]


def spark_views(store, prices):
    """The README's two CREATE VIEW lines for Spark SQL."""
    return [
        f"CREATE OR REPLACE TEMPORARY VIEW calls USING parquet OPTIONS (path '{store}/calls', recursiveFileLookup 'true')",
        f"CREATE OR REPLACE TEMPORARY VIEW prices USING parquet OPTIONS (path '{prices}')",
    ]


def traces(binary, *args):
    out = subprocess.run([binary, "-q", *args], check=True, capture_output=True, text=True).stdout
    return out


def number(v):
    """A figure as an exact decimal, whatever the engine returned it as."""
    if v is None:
        return None
    if isinstance(v, float):
        raise TypeError(f"{v!r} came back as a float: not exact")
    return Decimal(str(v)).normalize()


def report(binary, store, dim, pricing, *filters):
    doc = json.loads(traces(binary, "--store", str(store), "--pricing", str(pricing),
                            "cost", "--by", dim, "--format", "json", *filters), parse_float=Decimal)
    key = DIMS[dim]
    rows = {r[key]: {f: number(r[f]) for f in FIELDS} for r in doc["rows"]}
    return rows, {f: number(doc["total"][f]) for f in FIELDS}


def compare(engine, store_name, dim, got_rows, want_rows, want_total, total_traces):
    key = DIMS[dim]
    got = {}
    for r in got_rows:
        got[r[key]] = {f: number(r[f]) for f in FIELDS}
    problems = []
    for k in sorted(set(got) | set(want_rows), key=str):
        if got.get(k) != want_rows.get(k):
            problems.append(f"  {key}={k!r}:\n    {engine}: {got.get(k)}\n    traces: {want_rows.get(k)}")
    total = {f: None for f in FIELDS}
    for r in got.values():
        for f in ADDITIVE:
            if r[f] is not None:
                total[f] = (total[f] or 0) + r[f]
    total = {f: number(v) for f, v in total.items()}
    total["traces"] = number(total_traces)
    if total != want_total:
        problems.append(f"  TOTAL:\n    {engine}: {total}\n    traces: {want_total}")
    if problems:
        sys.exit(f"{engine} differs from traces on {store_name}, cost by {dim}:\n" + "\n".join(problems))
    return len(got)


# The calls table's Parquet schema as README ("The store") documents it: name, DuckDB's
# type, Parquet's physical type and logical type. Every column is optional (nullable).
CALLS_SCHEMA = [
    ("trace_id", "BLOB", "BYTE_ARRAY", None),
    ("span_id", "BLOB", "BYTE_ARRAY", None),
    ("start_time_unix_nano", "BIGINT", "INT64", None),
    ("recorded_cost_usd", "DOUBLE", "DOUBLE", None),
    ("calls_without_usage", "BIGINT", "INT64", None),
] + [(c, "VARCHAR", "BYTE_ARRAY", "String") for c in [
    "root_name", "service", "span_type", "provider", "request_model", "response_model",
    "session_id", "user_id", "response_id", "previous_response_id", "service_tier"]
] + [(c, "BIGINT", "INT64", None) for c in [
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "reasoning_tokens", "cache_write_1h_tokens", "audio_input_tokens",
    "audio_output_tokens", "image_input_tokens"]
] + [
    ("segment", "BIGINT", "INT64", None),
    ("price_id", "VARCHAR", "BYTE_ARRAY", "String"),
    ("price_fallback", "BOOLEAN", "BOOLEAN", None),
    ("recorded_cost_usd_text", "VARCHAR", "BYTE_ARRAY", "String"),
]


def check_calls_schema(store):
    """Each calls file, read by DuckDB and by pyarrow, has the documented schema."""
    import duckdb
    import pyarrow.parquet as pq
    files = sorted((store / "calls").rglob("*.parquet"))
    for f in files:
        d = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{f}', hive_partitioning = false)").fetchall()
        got = [(r[0], r[1]) for r in d]
        if got != [(n, t) for n, t, _, _ in CALLS_SCHEMA]:
            sys.exit(f"{f}: DuckDB reads {got}\nREADME documents {CALLS_SCHEMA}")
        s = pq.ParquetFile(f).schema
        got = [(s.column(i).name, s.column(i).physical_type,
                str(s.column(i).logical_type) if str(s.column(i).logical_type) != "None" else None,
                s.column(i).max_definition_level) for i in range(len(s))]
        want = [(n, p, l, 1) for n, _, p, l in CALLS_SCHEMA]
        if got != want:
            sys.exit(f"{f}: pyarrow reads {got}\nREADME documents {want}")
    print(f"calls schema: {len(files)} file(s) read by DuckDB and pyarrow as documented")


# The other tables as README ("The store") documents them: name, DuckDB's type, and
# whether the column may hold nulls (a column that may not is checked to hold none).
TEXT, INT = "VARCHAR", "BIGINT"
USAGE = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
         "reasoning_tokens", "cache_write_1h_tokens", "audio_input_tokens",
         "audio_output_tokens", "image_input_tokens"]
TABLES = {
    "spans": [("trace_id", TEXT, False), ("span_id", TEXT, False), ("parent_span_id", TEXT, True),
              ("trace_state", TEXT, False), ("name", TEXT, False), ("kind", TEXT, False),
              ("start_time_unix_nano", INT, False), ("end_time_unix_nano", INT, False),
              ("status_code", TEXT, False), ("status_message", TEXT, False), ("flags", INT, False),
              ("service_name", TEXT, True), ("scope_name", TEXT, False), ("scope_version", TEXT, False),
              ("attributes", TEXT, False), ("events", TEXT, False), ("links", TEXT, False),
              ("resource_attributes", TEXT, False), ("scope_attributes", TEXT, False),
              ("source", TEXT, False), ("content_hash", INT, False), ("span_type", TEXT, False)]
             + [(c, TEXT, True) for c in ["operation", "provider", "request_model", "response_model",
                                         "session_id", "user_id"]]
             + [(c, INT, True) for c in USAGE]
             + [("usage_source", TEXT, True), ("recorded_cost_usd", "DOUBLE", True)]
             + [(c, TEXT, True) for c in ["response_id", "previous_response_id", "service_tier",
                                         "finish_reasons", "error_type"]],
    "logs": [("log_id", TEXT, False), ("trace_id", TEXT, True), ("span_id", TEXT, True),
             ("time_unix_nano", INT, False), ("observed_time_unix_nano", INT, False),
             ("severity_number", INT, False), ("severity_text", TEXT, False), ("event_name", TEXT, True),
             ("body", TEXT, False), ("attributes", TEXT, False), ("flags", INT, False),
             ("service_name", TEXT, True), ("scope_name", TEXT, False), ("scope_version", TEXT, False),
             ("resource_attributes", TEXT, False), ("source", TEXT, False)],
    "traces": [("trace_id", TEXT, False), ("first_row", INT, False), ("last_row", INT, False),
               ("start_time_unix_nano", INT, False), ("end_time_unix_nano", INT, False),
               ("spans", INT, False), ("errors", INT, False), ("root_name", TEXT, False),
               ("root_service", TEXT, True), ("root_start", INT, False), ("root_certain", "BOOLEAN", False)],
}
PHYSICAL = {TEXT: ("BYTE_ARRAY", "String"), INT: ("INT64", None), "DOUBLE": ("DOUBLE", None),
            "BOOLEAN": ("BOOLEAN", None)}


def check_table_schemas(store):
    """Every spans, logs and traces file the manifest names, read by DuckDB and by pyarrow,
    has the documented columns and types, and no null where README says there is none."""
    import duckdb
    import pyarrow.parquet as pq
    manifest = json.loads((store / "manifest.json").read_text())
    n = 0
    for table, schema in TABLES.items():
        for seg in manifest["segments"]:
            rel = seg.get(f"{table}_file")
            if not rel:
                continue
            f = store / rel
            got = [(r[0], r[1]) for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{f}', hive_partitioning = false)").fetchall()]
            if got != [(c, t) for c, t, _ in schema]:
                sys.exit(f"{f}: DuckDB reads {got}\nREADME documents {schema}")
            s = pq.ParquetFile(f).schema
            got = [(s.column(i).name, s.column(i).physical_type,
                    str(s.column(i).logical_type) if str(s.column(i).logical_type) != "None" else None)
                   for i in range(len(s))]
            want = [(c, *PHYSICAL[t]) for c, t, _ in schema]
            if got != want:
                sys.exit(f"{f}: pyarrow reads {got}\nREADME documents {want}")
            never = [c for c, _, nullable in schema if not nullable]
            counts = duckdb.sql("SELECT " + ", ".join(f'COUNT(*) - COUNT("{c}")' for c in never)
                                + f" FROM read_parquet('{f}', hive_partitioning = false)").fetchall()[0]
            nulls = [c for c, k in zip(never, counts) if k]
            if nulls:
                sys.exit(f"{f}: nulls in {nulls}, which README says are never null")
            n += 1
    print(f"spans, logs and traces schemas: {n} file(s) read by DuckDB and pyarrow as documented")


TOTAL_TRACES = """SELECT COUNT(DISTINCT trace_id) AS traces FROM
  (SELECT c.*, MAX(c.segment) OVER (PARTITION BY c.trace_id) AS newest FROM calls c) n
  WHERE calls_without_usage IS NULL AND segment = newest"""


# The four queries are one query with another group key: they ship as four files so
# that each runs as it is, and this keeps them from drifting apart.
GROUP_KEYS = {
    "user": ("user_id", "    SELECT user_id AS group_key,"),
    "model": ("model", "    SELECT COALESCE(response_model, request_model) AS group_key,"),
    "day": ("day", "    SELECT -- The UTC day of the call's start, YYYY-MM-DD (whole days since the epoch, exact).\n"
            "           CAST(DATE '1970-01-01' + CAST(ROUND((start_time_unix_nano - MOD(start_time_unix_nano, "
            "86400000000000)) / 86400000000000) AS INT) AS VARCHAR(10)) AS group_key,"),
}


def check_queries_agree():
    """Each sql/cost_by_*.sql is sql/cost_by_session.sql with its own group key."""
    session = (root / "sql/cost_by_session.sql").read_text()
    for dim, (key, select) in GROUP_KEYS.items():
        want = (session.replace("Cost by session", f"Cost by {dim}")
                .replace("--by session", f"--by {dim}")
                .replace("rows (session_id", f"rows ({key}")
                .replace("    SELECT session_id AS group_key,", select)
                .replace("SELECT group_key AS session_id,", f"SELECT group_key AS {key},")
                .replace("ORDER BY cost_usd DESC, session_id", f"ORDER BY cost_usd DESC, {key}"))
        if (root / f"sql/cost_by_{dim}.sql").read_text() != want:
            sys.exit(f"sql/cost_by_{dim}.sql differs from sql/cost_by_session.sql beyond its group key")
    print(f"sql/: the {len(GROUP_KEYS) + 1} queries differ only in their group key")


def day_windows(days):
    """Each day the calls are on, then runs of days: two and three days across the trace
    of testdata/layout that crosses midnight, and every day from the first to the last."""
    ds = sorted(datetime.date.fromisoformat(d) for d in days)
    night = datetime.date(2025, 3, 9)
    return ([(d, d) for d in ds] + [(night, night + datetime.timedelta(days=1)),
                                    (night + datetime.timedelta(days=1), night + datetime.timedelta(days=3)),
                                    (ds[0], ds[-1])])


def check_fixture(binary, store):
    """The fixture's sessions against the costs worked out by hand."""
    want = json.loads((root / "testdata/sql/expected.json").read_text())
    rows, _ = report(binary, store, "session", PRICING)
    for session, exp in want["sessions"].items():
        got = rows.get(session)
        exp = {f: number(Decimal(v) if isinstance(v, str) else v) for f, v in exp.items()}
        if got is None or any(got[f] != v for f, v in exp.items()):
            sys.exit(f"traces cost --by session, {session}: {got}, worked out by hand: {exp}")
    per_call = [Decimal(c["cost_usd"]) for c in want["calls"].values() if c["cost_usd"]]
    if sum(per_call) != sum(Decimal(s["cost_usd"]) for s in want["sessions"].values()):
        sys.exit("testdata/sql/expected.json: the calls do not add up to the sessions")


def build_stores(binary, tmp, n_traces):
    stores = {}
    s = tmp / "testdata"
    # Part of one trace first: the full import then supersedes its calls.
    traces(binary, "--store", str(s), "--pricing", str(PRICING), "import", str(root / "testdata/sql/partial.json"))
    traces(binary, "--store", str(s), "--pricing", str(PRICING), "import", str(root / "testdata/sql/calls.json"),
           *[str(root / "testdata" / d) for d in TESTDATA], str(root / "testdata/layout/first.json"))
    # A later call, on another day, of a trace that crosses midnight.
    traces(binary, "--store", str(s), "--pricing", str(PRICING), "import", str(root / "testdata/layout/second.json"))
    stores["testdata"] = s
    # The same dumps in many imports, then compacted: the replaced files stay in calls/
    # until the next import, and must not count twice.
    c = tmp / "compacted"
    for part in ["testdata/sql/partial.json", "testdata/sql/calls.json", *[f"testdata/{d}" for d in TESTDATA],
                 "testdata/layout/first.json", "testdata/layout/second.json"]:
        traces(binary, "--store", str(c), "--pricing", str(PRICING), "import", str(root / part))
    traces(binary, "--store", str(c), "store", "compact", "--target-spans", "200")
    named = {seg["calls_file"] for seg in json.loads((c / "manifest.json").read_text())["segments"]
             if seg.get("calls_file")}
    replaced = [f for f in (c / "calls").rglob("*.parquet") if str(f.relative_to(c)) not in named]
    if len(replaced) < 3:
        sys.exit("the compacted store should hold replaced calls tables beside the merged ones")
    stores["testdata, compacted with replaced files left"] = c
    # A store of an earlier release (format 1, every day in one file), migrated.
    m = tmp / "migrated"
    shutil.copytree(root / "testdata/store-v1", m)
    traces(binary, "--store", str(m), "store", "migrate")
    stores["format 1, migrated"] = m
    if n_traces:
        dump = tmp / "bench.jsonl"
        subprocess.run([sys.executable, str(root / "benches/generate.py"), str(dump), "--traces", str(n_traces)],
                       check=True, stdout=subprocess.DEVNULL)
        b = tmp / f"bench-{n_traces}"
        traces(binary, "--store", str(b), "--pricing", str(PRICING), "import", str(dump))
        stores[f"bench ({n_traces} traces)"] = b
    return stores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--traces", type=int, default=2000, help="traces of the benchmark dump (0: none)")
    ap.add_argument("--no-spark", action="store_true")
    a = ap.parse_args()
    import duckdb

    sql = {d: (root / f"sql/cost_by_{d}.sql").read_text() for d in DIMS}
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        started = time.monotonic()
        stores = build_stores(a.binary, tmp, a.traces)
        check_fixture(a.binary, stores["testdata"])
        check_queries_agree()
        check_calls_schema(stores["testdata"])
        check_table_schemas(stores["testdata"])
        prices = tmp / "prices.parquet"
        traces(a.binary, "--pricing", str(PRICING), "pricing", "export", "--format", "parquet", "-o", str(prices))
        want = {(n, d): report(a.binary, s, d, PRICING) for n, s in stores.items() for d in DIMS}
        print(f"stores and traces' reports: {time.monotonic() - started:.1f} s")

        started = time.monotonic()
        for name, store in stores.items():
            con = duckdb.connect()
            for v in duckdb_views(store, prices):
                con.execute(v)
            total_traces = con.execute(TOTAL_TRACES).fetchone()[0]
            for d in DIMS:
                cur = con.execute(sql[d])
                cols = [c[0] for c in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
                n = compare("duckdb", name, d, rows, *want[(name, d)], total_traces)
                print(f"duckdb {name}: cost by {d}: {n} rows and the total equal traces'")
        print(f"duckdb: {time.monotonic() - started:.1f} s")

        # Read by day: the calls of some days only, against traces cost --since/--until.
        started = time.monotonic()
        windows = day_windows(want[("testdata", "day")][0])
        for first, last in windows:
            since, until = first.isoformat(), (last + datetime.timedelta(days=1)).isoformat()
            con = duckdb.connect()
            for v in duckdb_days_views(stores["testdata"], prices, first, last):
                con.execute(v)
            total_traces = con.execute(TOTAL_TRACES).fetchone()[0]
            for d in ("session",) if first == last else DIMS:
                cur = con.execute(sql[d])
                cols = [c[0] for c in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
                wanted = report(a.binary, stores["testdata"], d, PRICING, "--since", since, "--until", until)
                compare("duckdb", f"testdata, days {first}..{last}", d, rows, *wanted, total_traces)
        print(f"duckdb by day: {len(windows)} windows of days equal traces cost --since/--until: "
              f"{time.monotonic() - started:.1f} s")

        if a.no_spark:
            return
        started = time.monotonic()
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[2]").appName("traces-sql-check")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.shuffle.partitions", "4")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        try:
            for name, store in stores.items():
                for v in spark_views(store, prices):
                    spark.sql(v)
                total_traces = spark.sql(TOTAL_TRACES).collect()[0][0]
                for d in DIMS:
                    rows = [r.asDict() for r in spark.sql(sql[d]).collect()]
                    n = compare("spark", name, d, rows, *want[(name, d)], total_traces)
                    print(f"spark {name}: cost by {d}: {n} rows and the total equal traces'")
            # The two days across the midnight of testdata/layout's trace.
            first, last = windows[-3]
            for v in spark_days_views(stores["testdata"], prices, first, last):
                spark.sql(v)
            total_traces = spark.sql(TOTAL_TRACES).collect()[0][0]
            until = (last + datetime.timedelta(days=1)).isoformat()
            for d in ("session", "day"):
                rows = [r.asDict() for r in spark.sql(sql[d]).collect()]
                wanted = report(a.binary, stores["testdata"], d, PRICING, "--since", first.isoformat(),
                                "--until", until)
                n = compare("spark", f"testdata, days {first}..{last}", d, rows, *wanted, total_traces)
                print(f"spark testdata, days {first}..{last} by partition: cost by {d}: {n} rows equal traces'")
        finally:
            spark.stop()
        print(f"spark: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()

"""sql/cost_by_session.sql over a store, by DuckDB or by Spark (local[2]), as the README
defines the views: prints {session: [input, output, cost_usd as text]} for measure.py to
compare with traces, and the query's own seconds (without Spark's start) on stderr.

    python benches/sql_cost.py duckdb|spark STORE PRICES.parquet
"""
import json
import pathlib
import sys
import time

engine, store, prices = sys.argv[1:4]
sql = (pathlib.Path(__file__).resolve().parent.parent / "sql/cost_by_session.sql").read_text()
if engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute(f"CREATE VIEW calls AS SELECT * FROM read_parquet('{store}/calls/**/*.parquet')")
    con.execute(f"CREATE VIEW prices AS SELECT * FROM read_parquet('{prices}')")
    started = time.monotonic()
    rows = con.execute(sql).fetchall()
else:
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("traces-bench")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql(f"CREATE TEMPORARY VIEW calls USING parquet OPTIONS (path '{store}/calls', recursiveFileLookup 'true')")
    spark.sql(f"CREATE TEMPORARY VIEW prices USING parquet OPTIONS (path '{prices}')")
    started = time.monotonic()
    rows = [tuple(r) for r in spark.sql(sql).collect()]
print(f"query {time.monotonic() - started:.2f} s", file=sys.stderr)
print(json.dumps({r[0]: [r[3], r[6], str(r[9].normalize())] for r in rows}))

"""Runs every command of the benchmark N times under /usr/bin/time -v and prints wall
time (median), MB/s and peak RSS, with ratios against the peers measured in the same
run, after checking that every tool computed the same tokens per session.

    python3 benches/measure.py TRACES_BIN VENV_PYTHON DUMP [DUMP...]
"""
import decimal
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
HERE = os.path.dirname(os.path.abspath(__file__))
STORE_BY = ("session", "model", "user", "day")


def run(cmd, env=None):
    """Median wall seconds, max peak RSS in MB, and the last run's stdout."""
    walls, rss, out = [], [], ""
    for _ in range(REPEAT):
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
        m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
        h, mi, s = m.groups()
        walls.append(int(h or 0) * 3600 + int(mi) * 60 + float(s))
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024)
        out = p.stdout
    return statistics.median(walls), max(rss), out


def traces_by_session(stdout):
    return {r["session_id"]: [r["input_tokens"], r["output_tokens"]] for r in json.loads(stdout)["rows"]}


def tracecost_by_session(stdout):
    return {r["key"]: [r["tokens"]["input"], r["tokens"]["output"]] for r in json.loads(stdout)["rows"]}


def main():
    traces_bin, py, dumps = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = []
    for dump in dumps:
        size_mb = os.path.getsize(dump) / 1e6
        truth = json.load(open(dump + ".truth.json"))
        truth = {k: [v["input_tokens"], v["output_tokens"]] for k, v in truth.items()}
        res = {}
        w, r, out = run([traces_bin, "cost", "--by", "session", "--format", "json", dump])
        assert traces_by_session(out) == truth, "traces disagrees with the generator's totals"
        res["traces cost (dump)"] = (w, r)
        # The same spans as the Collector's framed protobuf (benches/to_binpb.py), if made.
        binpb = os.path.splitext(dump)[0] + ".binpb"
        if os.path.exists(binpb):
            w, r, out = run([traces_bin, "cost", "--by", "session", "--format", "json", binpb])
            assert traces_by_session(out) == truth, "traces disagrees on the protobuf of the same spans"
            mb = os.path.getsize(binpb) / 1e6
            res["traces cost (dump as protobuf)"] = (w, r, f"{mb:.0f} MB", mb)
        # The floor: the same lines parsed by sonic-rs on every core, nothing built.
        floor = os.path.join(os.path.dirname(traces_bin), "examples", "parse_floor")
        if os.path.exists(floor):
            w, r, _ = run([floor, dump])
            res["parse-only floor (sonic-rs)"] = (w, r)
        w, r, out = run([py, os.path.join(HERE, "duckdb_cost.py"), "dump", dump])
        assert json.loads(out) == truth, "DuckDB disagrees with the generator's totals"
        res["duckdb (dump)"] = (w, r)
        # tracecost holds a dump's whole JSON in Python objects: past this size it runs
        # for many minutes and gigabytes, so it is measured on the smaller dumps only.
        tracecost_max_mb = float(os.environ.get("BENCH_TRACECOST_MAX_MB", "500"))
        if os.environ.get("BENCH_TRACECOST", "1") == "1" and size_mb > tracecost_max_mb:
            res["tracecost (dump)"] = (float("nan"), float("nan"), f"not run: over {tracecost_max_mb:.0f} MB")
        elif os.environ.get("BENCH_TRACECOST", "1") == "1":
            tc = os.path.join(os.path.dirname(py), "tracecost")
            try:
                w, r, out = run([tc, "cost", "--by", "session", "--format", "json", dump])
                res["tracecost (dump)"] = (w, r)
                if tracecost_by_session(out) != truth:
                    res["tracecost (dump)"] = (w, r, "different numbers")
            except SystemExit as e:
                res["tracecost (dump)"] = (float("nan"), float("nan"), str(e).splitlines()[0][:60])
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "store")
            walls, rss = [], []
            for _ in range(REPEAT):
                subprocess.run(["rm", "-rf", store])
                w, r, _ = run_once([traces_bin, "--store", store, "import", dump])
                walls.append(w)
                rss.append(r)
            res["traces import"] = (statistics.median(walls), max(rss))
            for by in STORE_BY:
                w, r, out = run([traces_bin, "--store", store, "cost", "--by", by, "--format", "json"])
                res[f"traces cost --by {by} (store)"] = (w, r)
                w, r, out2 = run([py, os.path.join(HERE, "duckdb_cost.py"), "store", store, by])
                res[f"duckdb --by {by} (store)"] = (w, r)
            # The same report by sql/cost_by_session.sql, on DuckDB and on Spark local[2]
            # (its JVM's start included), checked against traces to the last digit.
            prices = os.path.join(tmp, "prices.parquet")
            subprocess.run([traces_bin, "pricing", "export", "--format", "parquet", "-o", prices], check=True)
            w, r, out = run([traces_bin, "--store", store, "cost", "--by", "session", "--format", "json"])
            want = {row["session_id"]: [row["input_tokens"], row["output_tokens"], str(decimal.Decimal(str(row["cost_usd"])).normalize())]
                    for row in json.loads(out, parse_float=decimal.Decimal)["rows"]}
            for engine in ("duckdb", "spark"):
                w, r, out = run([py, os.path.join(HERE, "sql_cost.py"), engine, store, prices])
                assert json.loads(out) == want, f"{engine} running sql/cost_by_session.sql disagrees with traces"
                res[f"{engine} sql/cost_by_session.sql"] = (w, r)
            w, r, out = run([traces_bin, "--store", store, "list", "--limit", "5", "--format", "json"])
            listed = [row["trace_id"] for row in json.loads(out)]
            res["traces list --limit 5 (store)"] = (w, r)
            w, r, out = run([py, os.path.join(HERE, "duckdb_cost.py"), "list", store])
            assert json.loads(out) == listed, "DuckDB lists other traces"
            res["duckdb list --limit 5 (store)"] = (w, r)
            # A small dump (other trace ids) into this store, and into an empty one.
            small = os.path.join(tmp, "small.jsonl")
            subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), small, "--traces", "20", "--seed", "99"],
                           check=True, capture_output=True)
            for name, base in (("traces import small (empty store)", None), ("traces import small (this store)", store)):
                walls, rss = [], []
                for _ in range(REPEAT):
                    into = os.path.join(tmp, "into")
                    subprocess.run(["rm", "-rf", into])
                    if base:
                        subprocess.run(["cp", "-r", base, into], check=True)
                    # Else the import's first fsync also writes out the copy just made.
                    os.sync()
                    w, r, _ = run_once([traces_bin, "--store", into, "import", small])
                    walls.append(w)
                    rss.append(r)
                res[name] = (statistics.median(walls), max(rss))
            subprocess.run(["rm", "-rf", os.path.join(tmp, "into")])
            # A budget per trace (#19): a check costs no more than the report it asks.
            w, r, _ = run([traces_bin, "--store", store, "cost", "--by", "trace", "--format", "json"])
            res["traces cost --by trace (store)"] = (w, r)
            # The same report and the whole store's list as tables for people (the
            # default format), which measure every row before drawing one.
            w, r, _ = run([traces_bin, "--store", store, "cost", "--by", "trace", "--wide"])
            res["traces cost --by trace, table"] = (w, r)
            w, r, _ = run([traces_bin, "--store", store, "list", "--format", "json"])
            res["traces list, all, json"] = (w, r)
            w, r, _ = run([traces_bin, "--store", store, "list", "--wide"])
            res["traces list, all, table"] = (w, r)
            budget = os.path.join(tmp, "budget.toml")
            with open(budget, "w") as f:
                f.write('[[rule]]\nname = "per trace"\nscope = "trace"\nmax_total_tokens = 100000000\n'
                        'p95_total_tokens = 100000000\n')
            w, r, _ = run([traces_bin, "--store", store, "check", "--budget", budget, "--format", "json"])
            res["traces check, per-trace budget"] = (w, r)
            # One trace, as `show` reads it: the dearest, named by `cost --by trace`.
            _, _, out = run([traces_bin, "--store", store, "cost", "--by", "trace", "--top", "1", "--format", "json"])
            trace = json.loads(out)["rows"][0]["trace_id"]
            w, r, out = run([traces_bin, "--store", store, "show", trace, "--format", "json"])
            spans = len(json.loads(out)["spans"])
            res["traces show ID (store)"] = (w, r)
            w, r, out = run([py, os.path.join(HERE, "duckdb_cost.py"), "trace", store, trace])
            assert json.loads(out) == {trace: spans}, "DuckDB finds other spans of the trace"
            res["duckdb trace's spans (store)"] = (w, r)
        lines.append((dump, size_mb, res))
    print(f"{'dump':<28}{'command':<34}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}  note")
    for dump, size_mb, res in lines:
        for name, v in res.items():
            w, r = v[0], v[1]
            note = v[2] if len(v) > 2 else ""
            mb = v[3] if len(v) > 3 else size_mb
            mbs = mb / w if w == w and w > 0 and ("dump" in name or "import" in name or "floor" in name) else float("nan")
            print(f"{os.path.basename(dump):<28}{name:<34}{w:>9.2f}{mbs:>9.1f}{r:>13.0f}  {note}")
        t, d = res["traces cost (dump)"], res["duckdb (dump)"]
        print(f"  ratio traces/duckdb from the dump: {d[0] / t[0]:.2f}x faster, RSS {t[1] / d[1]:.2f} of DuckDB's")
        if "traces cost (dump as protobuf)" in res:
            p = res["traces cost (dump as protobuf)"]
            print(f"  traces cost of the same spans as framed protobuf: {t[0] / p[0]:.2f}x faster than the JSON lines")
        if "parse-only floor (sonic-rs)" in res:
            f = res["parse-only floor (sonic-rs)"]
            print(f"  traces cost (dump) / the parse-only floor: {t[0] / f[0]:.2f}x the floor's time")
        for by in STORE_BY:
            t, d = res[f"traces cost --by {by} (store)"], res[f"duckdb --by {by} (store)"]
            print(f"  ratio traces/duckdb from the store --by {by}: {d[0] / t[0]:.2f}x")
        t = res["traces cost --by session (store)"]
        for engine in ("duckdb", "spark"):
            d = res[f"{engine} sql/cost_by_session.sql"]
            print(f"  {engine} sql/cost_by_session.sql / traces cost --by session: {d[0] / t[0]:.1f}x the time, same numbers")
        t, d = res["traces list --limit 5 (store)"], res["duckdb list --limit 5 (store)"]
        print(f"  ratio traces list / duckdb GROUP BY trace_id: {d[0] / t[0]:.2f}x")
        e, f = res["traces import small (empty store)"], res["traces import small (this store)"]
        print(f"  import of a small dump into this store: {f[0] / e[0]:.2f}x the time into an empty one")
        for what, json_name in (("cost --by trace", "traces cost --by trace (store)"),
                                ("list, all", "traces list, all, json")):
            t, j = res[f"traces {what}, table"], res[json_name]
            print(f"  traces {what}: the table for people / JSON: {t[0] / j[0]:.2f}x the time, "
                  f"{t[1] / j[1]:.2f}x the memory")
        c, t = res["traces check, per-trace budget"], res["traces cost --by trace (store)"]
        print(f"  traces check (per trace) / traces cost --by trace: {c[0] / t[0]:.2f}x the time")
        t, d = res["traces show ID (store)"], res["duckdb trace's spans (store)"]
        print(f"  ratio traces show / duckdb SELECT one trace: {d[0] / t[0]:.2f}x")
    if len(lines) > 1:
        small, large = lines[0], lines[-1]
        r0, r1 = small[2]["traces cost (dump)"][1], large[2]["traces cost (dump)"][1]
        print(f"  traces cost (dump) peak RSS, {os.path.basename(large[0])} over {os.path.basename(small[0])}: "
              f"{r1 / r0:.2f}x for {large[1] / small[1]:.1f}x the bytes")


def run_once(cmd):
    global REPEAT
    saved, REPEAT = REPEAT, 1
    try:
        return run(cmd)
    finally:
        REPEAT = saved


if __name__ == "__main__":
    main()

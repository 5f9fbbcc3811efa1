#!/usr/bin/env python3
"""Compare `traces cost` with truth.json for one dump (diagnostic; stdlib only).

  python3 compare.py agents-oi [--bin target/debug/traces]

Runs `traces cost testdata/llm/<sdk> --by trace|session|user|model --format json` and
prints, per group, the tool's counts next to the ledger's (truth.json), marking
differences. Trace rows are matched by trace id (truth per_trace trace_ids).
"""
import argparse
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIELDS = [  # (traces field, truth field)
    ("calls", "calls_with_usage"),
    ("input_tokens", "input_tokens"),
    ("cache_read_tokens", "cached_input_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
]
DIMS = {"trace": ("trace_id", "per_trace"), "session": ("session_id", "per_session"),
        "user": ("user_id", "per_user"), "model": ("model", "per_model")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sdk")
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "debug", "traces"))
    a = ap.parse_args()
    dump = os.path.join(REPO, "testdata", "llm", a.sdk)
    truth = json.load(open(os.path.join(REPO, "testdata", "expected", "llm", a.sdk, "truth.json")))
    bad = 0
    for by, (key, tkey) in DIMS.items():
        p = subprocess.run([a.bin, "cost", dump, "--by", by, "--format", "json"], capture_output=True, text=True)
        warn = [ln for ln in p.stderr.splitlines() if "newer than the price table" not in ln]
        rows = {r[key]: r for r in json.loads(p.stdout)["rows"]}
        want = truth[tkey]
        if by == "trace":
            want = {tid: v | {"name": n} for n, v in want.items() for tid in v["trace_ids"]}
        print("== --by %s" % by + ("   stderr: %s" % warn if warn else ""))
        for k in sorted(set(rows) | set(want), key=str):
            r, t = rows.get(k), want.get(k)
            label = "%s%s" % (k, " (%s)" % t["name"] if t and "name" in t else "")
            if r is None or t is None:
                bad += 1
                print("  %-50s only in %s: %s" % (label, "traces" if t is None else "truth",
                      {f: (r or {}).get(f) if t is None else t.get(g) for f, g in FIELDS}))
                continue
            diffs = ["%s traces=%s ledger=%s" % (f, r[f], t[g]) for f, g in FIELDS if r[f] != t[g]]
            bad += bool(diffs)
            print("  %-50s %s" % (label, "OK" if not diffs else "DIFF " + "; ".join(diffs)))
    print("groups differing: %d" % bad)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compare `traces cost --by trace|session|user|model --format json` with truth.json (diagnostic).

  python compare_traces.py [DUMP_DIR] [TRUTH_JSON] [TRACES_BIN]
Prints one line per group and field where the tool and the ledger differ.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
dump = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "llm", "litellm")
truth_p = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "testdata", "expected", "llm", "litellm", "truth.json")
binary = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "target", "debug", "traces")
truth = json.load(open(truth_p))
FIELDS = [("input_tokens", "input_tokens"), ("cache_read_tokens", "cached_input_tokens"),
          ("cache_write_tokens", "cache_write_tokens"), ("output_tokens", "output_tokens"),
          ("reasoning_tokens", "reasoning_tokens"), ("calls", "calls")]


def cost_of(calls):
    return round(sum((c.get("expected_cost") or {}).get("total_cost", 0) for c in calls), 8)


def ledger_groups(by):
    groups = {}
    for c in truth["calls"]:
        key = {"trace": c["trace_id"], "session": c["session_id"], "user": c["user_id"], "model": c["model"]}[by]
        if key is None:
            continue
        g = groups.setdefault(key, {"calls": 0, "_calls": []})
        g["calls"] += 1
        g["_calls"].append(c)
        for _, tk in FIELDS[:-1]:
            g[tk] = g.get(tk, 0) + ((c["usage"] or {}).get(tk) or 0)
    for g in groups.values():
        g["cost"] = cost_of(g["_calls"])
    return groups


for by in ("trace", "session", "user", "model"):
    p = subprocess.run([binary, "cost", dump, "--by", by, "--format", "json"], capture_output=True, text=True)
    rows = json.loads(p.stdout)["rows"]
    key = {"trace": "trace_id", "session": "session_id", "user": "user_id", "model": "model"}[by]
    led = ledger_groups(by)
    print("== by", by, "(%d tool rows, %d ledger groups)" % (len(rows), len(led)))
    seen = set()
    for r in rows:
        k = r.get(key)
        seen.add(k)
        g = led.get(k)
        if g is None:
            print("  %-36s only in tool: %s" % (k, {f: r.get(f) for f, _ in FIELDS}), "cost", r.get("cost_usd"),
                  "recorded", r.get("recorded_cost_usd"))
            continue
        diffs = ["%s tool=%s ledger=%s" % (f, r.get(f), g.get(tk)) for f, tk in FIELDS if r.get(f) != g.get(tk)]
        cd = "cost tool=%s recorded=%s ledger@litellm-prices=%s" % (r.get("cost_usd"), r.get("recorded_cost_usd"), g["cost"])
        print("  %-36s %s | %s" % (k, "; ".join(diffs) or "tokens OK", cd))
    for k, g in led.items():
        if k not in seen:
            print("  %-36s only in ledger: %s" % (k, {tk: g.get(tk) for _, tk in FIELDS}))
    if p.stderr.strip():
        print("  stderr:", p.stderr.strip().replace("\n", "\n          "))

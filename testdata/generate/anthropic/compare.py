#!/usr/bin/env python3
"""Compare `traces cost DIR --by trace|session|user|model` with truth.json (report only).

  python compare.py testdata/llm/<sdk> testdata/expected/llm/<sdk>/truth.json [--traces BIN]

Prints one line per group and field where the tool differs from the ledger, then the
tool's stderr (warnings). Fields: input_tokens, cache_read_tokens (truth:
cached_input_tokens), cache_write_tokens, output_tokens, reasoning_tokens, calls
(truth: calls_with_usage, the error call has no usage).
"""
import json
import os
import subprocess
import sys
import tomllib

PRICING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "pricing", "anthropic.toml")


def ledger_costs(t):
    """Cost per call from the ledger and pricing/anthropic.toml (USD per million tokens), None if unpriced."""
    try:
        models = {m["id"]: m["price"][-1] for m in tomllib.load(open(PRICING, "rb"))["model"]}
    except OSError:
        return {}
    out = {}
    for c in t["calls"]:
        u, p = c["usage"], models.get(c["model"] or "")
        if u is None or p is None:
            continue
        f = lambda k: float(p.get(k) or 0)  # noqa: E731
        w1 = u["cache_write_1h_tokens"]
        w5 = u["cache_write_tokens"] - w1
        fresh = u["input_tokens"] - u["cached_input_tokens"] - u["cache_write_tokens"]
        out[c["request_no"]] = (fresh * f("input") + u["cached_input_tokens"] * f("cached_input")
                                + w5 * f("cache_write_5m") + w1 * f("cache_write_1h")
                                + u["output_tokens"] * f("output")) / 1e6
    return out

FIELDS = [
    ("input_tokens", "input_tokens"),
    ("cache_read_tokens", "cached_input_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
    ("calls", "calls_with_usage"),
]


def run(binary, d, by):
    p = subprocess.run([binary, "cost", d, "--by", by, "--format", "json"], capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr
    return json.loads(p.stdout), p.stderr


def none_group(t, by):
    """The ledger's calls without a session (user): the tool's row with a null key."""
    field = {"session": "session_id", "user": "user_id"}.get(by)
    if field is None:
        return None
    acc = {"calls": 0, "calls_with_usage": 0}
    for c in t["calls"]:
        if c.get(field) is None:
            acc["calls"] += 1
            if c["usage"]:
                acc["calls_with_usage"] += 1
                for k, v in c["usage"].items():
                    acc[k] = acc.get(k, 0) + v
    return acc if acc["calls"] else None


def main():
    d, truth_path = sys.argv[1], sys.argv[2]
    binary = sys.argv[sys.argv.index("--traces") + 1] if "--traces" in sys.argv else "/work/main/target/debug/traces"
    t = json.load(open(truth_path))
    tid_to_name = {}
    for name, acc in t["per_trace"].items():
        for tid in acc.get("trace_ids", []):
            tid_to_name[tid] = name
    diffs = 0
    warnings = set()
    for by, key, truth_groups in (
        ("trace", "trace_id", t["per_trace"]),
        ("session", "session_id", t["per_session"]),
        ("user", "user_id", t["per_user"]),
        ("model", "model", t["per_model"]),
    ):
        out, err = run(binary, d, by)
        for line in err.splitlines():
            if line.strip():
                warnings.add(line.strip())
        if out is None:
            print("by %s: tool failed" % by)
            continue
        seen = set()
        for row in out["rows"]:
            g = row.get(key)
            name = tid_to_name.get(g, g) if by == "trace" else g
            if name is None and by == "trace":
                name = "?%s" % g
            truth_g = truth_groups.get(name) if name is not None else none_group(t, by)
            if truth_g is None:
                # groups with no key in the tool (e.g. no session) or unknown to the ledger
                label = "(none)" if g is None else g
                print("by %-7s %-28s only in tool: %s" % (by, label, {f: row.get(f) for f, _ in FIELDS}))
                diffs += 1
                continue
            seen.add(name)
            for f, tf in FIELDS:
                if row.get(f) != truth_g.get(tf):
                    print("by %-7s %-28s %-18s ledger %-8s traces %s" % (by, name, f, truth_g.get(tf), row.get(f)))
                    diffs += 1
        for name, g in truth_groups.items():
            if name not in seen and g.get("calls_with_usage"):
                print("by %-7s %-28s missing in tool (ledger %s)" % (by, name, {tf: g.get(tf) for _, tf in FIELDS}))
                diffs += 1
    tot_out, _ = run(binary, d, "trace")
    if tot_out is not None:
        tt = tot_out.get("total") or {}
        print("total: tool %s" % {f: tt.get(f) for f, _ in FIELDS + [("cost_usd", "")]})
        print("total: ledger %s" % {tf: t["totals"].get(tf) for _, tf in FIELDS})
    costs = ledger_costs(t)
    if costs and tot_out is not None:
        per_trace = {}
        for c in t["calls"]:
            if c["request_no"] in costs:
                per_trace[c["trace_name"]] = per_trace.get(c["trace_name"], 0) + costs[c["request_no"]]
        out, _ = run(binary, d, "trace")
        for row in out["rows"]:
            name = tid_to_name.get(row.get("trace_id"))
            if name in per_trace and abs((row.get("cost_usd") or 0) - per_trace[name]) > 1e-9:
                print("by trace   %-28s cost_usd           ledger %.8f traces %s" % (name, per_trace[name], row.get("cost_usd")))
                diffs += 1
        print("total cost: ledger (pricing/anthropic.toml, 1h writes at cache_write_1h) %.8f, traces %s"
              % (sum(costs.values()), (tot_out.get("total") or {}).get("cost_usd")))
    print("%d difference(s)" % diffs)
    for w in sorted(warnings):
        print("stderr:", w)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compare `traces cost` on a dump with its truth.json (report only; any python3).

  python3 testdata/generate/aisdk/compare_traces.py testdata/llm/aisdk4 [--bin target/debug/traces]

Groups: trace (by trace id), session, user, model (truth: returned model; calls that
failed have no model in the ledger and are left out of the model comparison, as
`traces` has no usage for them either). Prints every group whose token counts or
calls differ, then the tool's warnings (stderr).
"""
import json
import os
import subprocess
import sys

FIELDS = [  # (traces field, truth field)
    ("input_tokens", "input_tokens"),
    ("cache_read_tokens", "cached_input_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
    ("calls", "calls_with_usage"),
]


def main():
    d = os.path.abspath(sys.argv[1])
    binary = sys.argv[sys.argv.index("--bin") + 1] if "--bin" in sys.argv else "target/debug/traces"
    sdk = os.path.basename(d)
    truth = json.load(open(os.path.join(d, "..", "..", "expected", "llm", sdk, "truth.json")))
    per_trace_id = {}
    for name, t in truth["per_trace"].items():
        for tid in t["trace_ids"]:
            per_trace_id[tid] = dict(t, name=name)
    dims = {
        "trace": ("trace_id", per_trace_id),
        "session": ("session_id", truth["per_session"]),
        "user": ("user_id", truth["per_user"]),
        "model": ("model", {k: v for k, v in truth["per_model"].items() if v["calls_with_usage"]}),
    }
    warnings = set()
    ndiff = 0
    for by, (key, expected) in dims.items():
        p = subprocess.run([binary, "cost", d, "--by", by, "--format", "json"], capture_output=True, text=True)
        warnings.update(l for l in p.stderr.splitlines() if l.strip())
        rows = {r.get(key): r for r in json.loads(p.stdout)["rows"]}
        for k in sorted(set(rows) | set(expected), key=str):
            r, t = rows.get(k), expected.get(k)
            if r is None or t is None:
                if t is None and by in ("session", "user") and k is None:
                    continue  # calls without session/user: not a truth group
                if r is None and t["calls_with_usage"] == 0:
                    continue  # only failed calls (no usage): traces has no row, as expected
                what = "only in traces: %s" % {a: r[a] for a, _ in FIELDS} if t is None else "only in truth"
                print("%-8s %-40s %s" % (by, k, what))
                ndiff += 1
                continue
            diffs = ["%s traces=%s truth=%s" % (a, r[a], t[b]) for a, b in FIELDS if r[a] != t[b]]
            if diffs:
                ndiff += 1
                label = k + (" (%s)" % t["name"] if by == "trace" else "")
                print("%-8s %-40s %s" % (by, label, "; ".join(diffs)))
    print("differences: %d" % ndiff)
    for w in sorted(warnings):
        print("stderr:", w)


if __name__ == "__main__":
    main()

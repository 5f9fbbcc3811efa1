#!/usr/bin/env python3
"""Compare `traces cost` with truth.json per trace, session, user and model (stdlib only).

  python compare_gemini.py SDK [--bin target/debug/traces]

Reads testdata/llm/SDK and testdata/expected/llm/SDK/truth.json, runs
`traces cost DIR --by {trace,session,user,model} --format json` and prints every
group where a count differs, plus the tool's warnings (stderr) and an
import into a throw-away store. `calls` is compared with the ledger's
calls_with_usage (the tool does not count a span without usage).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIELDS = [
    ("input_tokens", "input_tokens"),
    ("cached_input_tokens", "cache_read_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
    ("total_tokens", "total_tokens"),
    ("calls_with_usage", "calls"),
]


def run(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, text=True, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr


def main():
    sdk = sys.argv[1]
    binary = os.path.join(ROOT, "target", "debug", "traces")
    if "--bin" in sys.argv:
        binary = sys.argv[sys.argv.index("--bin") + 1]
    d = os.path.join("testdata", "llm", sdk)
    truth = json.load(open(os.path.join(ROOT, "testdata", "expected", "llm", sdk, "truth.json")))
    bad = 0
    warnings = set()
    for by, tkey, rkey in (
        ("trace", "per_trace", "trace_id"),
        ("session", "per_session", "session_id"),
        ("user", "per_user", "user_id"),
        ("model", "per_model", "model"),
    ):
        rc, out, err = run(binary, ["cost", d, "--by", by, "--format", "json"])
        for line in err.splitlines():
            warnings.add(line)
        if rc != 0:
            print("traces cost --by %s failed (%d): %s" % (by, rc, err.strip()))
            bad += 1
            continue
        rows = {r.get(rkey): r for r in json.loads(out)["rows"]}
        groups = dict(truth[tkey])
        if by in ("session", "user"):
            # calls made with no session / user: the tool's null group
            acc = {k: 0 for k, _ in FIELDS}
            for c in truth["calls"]:
                if c[by + "_id"] is None and c["usage"]:
                    acc["calls_with_usage"] += 1
                    for k, _ in FIELDS[:-1]:
                        acc[k] += c["usage"][k]
            if acc["calls_with_usage"]:
                groups[None] = acc
        seen = set()
        for name, acc in groups.items():
            if by == "trace":
                tids = acc.get("trace_ids") or []
                row = next((rows[t] for t in tids if t in rows), None)
                seen.update(tids)
            else:
                row = rows.get(name)
                seen.add(name)
            if row is None:
                if acc["calls_with_usage"]:
                    print("%-7s %-26s MISSING in traces (ledger: %d calls with usage, input %d)"
                          % (by, name, acc["calls_with_usage"], acc["input_tokens"]))
                    bad += 1
                continue
            diffs = ["%s ledger %s traces %s" % (tk, acc[tk], row.get(rk)) for tk, rk in FIELDS if acc[tk] != row.get(rk)]
            if diffs:
                bad += 1
                print("%-7s %-26s %s" % (by, name, "; ".join(diffs)))
        for key, row in rows.items():
            if key not in seen:
                print("%-7s %-26s EXTRA in traces: calls %s input %s output %s"
                      % (by, key, row.get("calls"), row.get("input_tokens"), row.get("output_tokens")))
                bad += 1
    rc, out, err = run(binary, ["cost", d, "--format", "json"])
    if rc == 0:
        tot = json.loads(out)
        print("total cost_usd:", [r.get("cost_usd") for r in tot.get("rows", [])] or tot.get("total"))
    store = tempfile.mkdtemp(prefix="traces-store-")
    rc, out, err = run(binary, ["--store", store, "import", d])
    print("import: rc %d %s %s" % (rc, out.strip().replace("\n", " | "), err.strip().replace("\n", " | ")))
    for w in sorted(warnings):
        print("stderr:", w)
    print("%s: %d group(s) differ" % (sdk, bad))


if __name__ == "__main__":
    main()

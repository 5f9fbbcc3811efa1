#!/usr/bin/env python3
"""Print what the SDK posted (stdlib only): the batches, the events split across batches, the usage
shapes, and a check of every truth call against the merged observations.

  python3 inspect_ingestion.py [testdata/llm/langfuse2/ingestion.jsonl] [testdata/expected/llm/langfuse2/truth.json]

The merge here is the simplest one (later event bodies' keys override earlier ones, per observation
id; trace-create bodies per trace id); it is a diagnostic, not the truth.
"""
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", ".."))


def short(x):
    return (x or "")[:8]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TESTDATA, "llm", "langfuse2", "ingestion.jsonl")
    tpath = sys.argv[2] if len(sys.argv) > 2 else os.path.join(TESTDATA, "expected", "llm", "langfuse2", "truth.json")
    batches = [json.loads(line) for line in open(path, encoding="utf-8")]
    types = collections.Counter()
    where = collections.defaultdict(list)  # observation / trace id -> [(line, type)]
    obs, traces = {}, {}
    print("== batches")
    for n, b in enumerate(batches, 1):
        evs = b["batch"]
        print("%2d (%d): %s" % (n, len(evs), ", ".join(
            "%s %s%s" % (e["type"], short(e["body"].get("id")), (" " + e["body"]["name"]) if e["body"].get("name") else "")
            for e in evs)))
        for e in evs:
            t, body = e["type"], e["body"]
            types[t] += 1
            oid = body.get("id")
            if t == "trace-create":
                traces.setdefault(oid, {}).update(body)
            elif t.endswith("-create") or t.endswith("-update"):
                if t != "score-create":
                    obs.setdefault(oid, {"kind": t.split("-")[0]}).update(body)
            where[(t.split("-")[0], oid)].append(n)
    print("\n== event types:", dict(types))
    print("\n== observations / traces whose events are in more than one batch")
    for (kind, oid), lines in where.items():
        if kind != "sdk" and len(set(lines)) > 1:
            print("  %-10s %-36s batches %s" % (kind, oid, lines))
    print("\n== usage of each generation (merged)")
    for oid, o in obs.items():
        if o["kind"] != "generation":
            continue
        tr = traces.get(o.get("traceId"), {})
        print("  %s trace=%s name=%s model=%s level=%s\n      usage=%s\n      usageDetails=%s costDetails=%s" % (
            short(oid), tr.get("name") or o.get("traceId"), o.get("name"), o.get("model"), o.get("level"),
            json.dumps(o.get("usage")), json.dumps(o.get("usageDetails")), json.dumps(o.get("costDetails"))))
    if not os.path.exists(tpath):
        return
    truth = json.load(open(tpath))
    print("\n== truth calls vs merged generations")
    bad = 0
    for c in truth["calls"]:
        u = c["usage"] or {}
        nt = c["non_token_usage"] or {}
        want_in = u.get("input_tokens") if u else nt.get("input")
        found = []
        for oid, o in obs.items():
            us, ud = o.get("usage") or {}, o.get("usageDetails") or {}
            got = ud.get("prompt_tokens") or ((ud.get("input") or 0) + (ud.get("cache_read_input_tokens") or 0)
                                              if "input" in ud else None) or us.get("input")
            if want_in is not None and got == want_in:
                found.append(oid)
        tid = found and obs[found[0]].get("traceId")
        ok = (want_in is None) or (len(found) == 1 and tid == c["langfuse_trace_id"])
        bad += not ok
        print("  %-4s %-22s %-20s input=%-5s -> %s %s" % (c["request_no"] or "m%d" % c["manual_no"], c["scenario"],
                                                       c["endpoint"], want_in, [short(f) for f in found],
                                                       "ok" if ok else "MISMATCH"))
    print("mismatches:", bad)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Diagnostics for an aisdk dump (needs opentelemetry-proto, e.g. /tmp/llm-venvs/aisdk-inspect).

  python check_aisdk.py testdata/llm/aisdk4 [--keys]

For every ledger call (testdata/expected/llm/<sdk>/truth.json): the span whose id is
the span id of X-App-Traceparent (the OTel span active when the HTTP request was
sent), its name and trace, and every span whose usage count identifies the call
(input 1000 + 17k, or a sum of several calls: an operation span). --keys prints,
per span name, the attribute keys seen (with one example value for usage keys).
"""
import json
import os
import sys
from itertools import combinations

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "llm"))
from inspect_dump import idhex, iter_spans, val  # noqa: E402

INPUT_KEYS = ("ai.usage.promptTokens", "gen_ai.usage.input_tokens", "ai.usage.inputTokens")


def spans(d):
    for _, scope, sp in iter_spans(d):
        sp["_scope"] = scope
        sp["_attrs"] = {a["key"]: val(a["value"]) for a in sp.get("attributes", [])}
        yield sp


def main():
    d = os.path.abspath(sys.argv[1])
    sdk = os.path.basename(d)
    truth = json.load(open(os.path.join(d, "..", "..", "expected", "llm", sdk, "truth.json")))
    sps = list(spans(d))
    if "--keys" in sys.argv:
        by_name = {}
        for sp in sps:
            name = sp["name"]
            for k in ("chat ", "invoke_agent ", "step ", "execute_tool "):
                if name.startswith(k):
                    name = k + "*"
            e = by_name.setdefault(name, {"n": 0, "kind": sp.get("kind"), "scope": sp["_scope"], "keys": {}})
            e["n"] += 1
            for k, v in sp["_attrs"].items():
                if any(w in k.lower() for w in ("usage", "token", "metadata", "model", "context", "session", "user")):
                    e["keys"].setdefault(k, str(v)[:110])
                else:
                    e["keys"].setdefault(k, None)
        for name, e in by_name.items():
            print("%s  x%d  kind=%s scope=%s" % (name, e["n"], e["kind"], json.dumps(e["scope"])))
            for k, v in e["keys"].items():
                print("    %s%s" % (k, "" if v is None else " = " + v))
        return
    calls = {c["request_no"]: c for c in truth["calls"]}
    by_input = {c["usage"]["input_tokens"]: c["request_no"] for c in truth["calls"] if c["usage"]}
    by_span = {idhex(sp.get("spanId")): sp for sp in sps}
    for c in truth["calls"]:
        sp = by_span.get(c["sdk_span_id"])
        print(
            "req %2d %-24s span active at fetch: %-28r same trace: %s"
            % (c["request_no"], c["scenario"], sp and sp["name"], sp is not None and idhex(sp.get("traceId")) == c["trace_id"])
        )
    print()
    for sp in sps:
        for k in INPUT_KEYS:
            if k not in sp["_attrs"]:
                continue
            n = int(sp["_attrs"][k])
            tid = idhex(sp.get("traceId"))
            same = [r for r, c in calls.items() if c["trace_id"] == tid and c["usage"]]
            match = None
            if n in by_input:
                match = "req %d" % by_input[n]
            else:
                for m in range(2, len(same) + 1):
                    for combo in combinations(same, m):
                        if sum(calls[r]["usage"]["input_tokens"] for r in combo) == n:
                            match = "SUM of req " + "+".join(map(str, combo))
            print("%-28r %-28s = %5d  -> %s" % (sp["name"], k, n, match or "NO MATCH"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Cross-check a dump against its truth.json (diagnostic only; needs opentelemetry-proto).

Every request gets a distinct input token count (1000 + 17*k), so a span or log
record carrying an input/prompt count identifies the ledger call. For each such
span this prints whether it sits in the trace the call was made in, and which
ledger calls no span reports usage for.

  python check_dump.py testdata/llm/sideseat
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inspect_dump import idhex, load, val  # noqa: E402
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

INPUT_KEYS = ("llm.token_count.prompt", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
JSON_KEYS = ("langfuse.observation.usage_details", "gen_ai.usage.raw", "llm.usage")


def input_count(attrs):
    found = []
    for k in INPUT_KEYS:
        if k in attrs:
            found.append((k, int(attrs[k])))
    for k in JSON_KEYS:
        if k in attrs:
            try:
                u = json.loads(attrs[k])
                n = u.get("prompt_tokens", u.get("input_tokens"))
                if n is not None:
                    found.append((k, int(n)))
            except (ValueError, AttributeError):
                pass
    return found


def main():
    d = sys.argv[1]
    truth = json.load(open(os.path.join(d, "truth.json")))
    by_input = {c["usage"]["input_tokens"]: c for c in truth["calls"] if c["usage"]}
    seen = {}
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        recs = []
        if f.startswith("traces-"):
            req = load(p, ExportTraceServiceRequest)
            for rs in req.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        recs.append(("span", sp))
        elif f.startswith("logs-"):
            req = load(p, ExportLogsServiceRequest)
            for rl in req.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for lr in sl.get("logRecords", []):
                        recs.append(("log", lr))
        for kind, r in recs:
            attrs = {a["key"]: val(a["value"]) for a in r.get("attributes", [])}
            for key, n in input_count(attrs):
                call = by_input.get(n)
                tid = idhex(r.get("traceId"))
                if call is None:
                    print("%s %s %r %s=%d matches no ledger call" % (f, kind, r.get("name") or r.get("eventName"), key, n))
                    continue
                seen.setdefault(call["request_no"], []).append((kind, key))
                ok = "ok" if tid == call["trace_id"] else "WRONG TRACE (call made in %s)" % call["trace_id"]
                print(
                    "%s %-4s req %2d %-30s %-36s trace %s %s"
                    % (f, kind, call["request_no"], call["scenario"], key, tid, ok)
                )
    for c in truth["calls"]:
        if c["usage"] and c["request_no"] not in seen:
            print("req %2d %s: usage sent but reported by no span/log" % (c["request_no"], c["scenario"]))


if __name__ == "__main__":
    main()

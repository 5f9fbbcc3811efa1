#!/usr/bin/env python3
"""Print a short summary of a captured dump directory (needs opentelemetry-proto).

  python inspect_dump.py testdata/llm/oi [--attrs]
"""
import base64
import json
import os
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

INTERESTING = ("token", "usage", "session", "user", "model", "error")


def load(path, cls):
    msg = cls()
    raw = open(path, "rb").read()
    if path.endswith(".pb"):
        msg.ParseFromString(raw)
        return json_format.MessageToDict(msg)
    return json.loads(raw)


def iter_spans(d, suffix=""):
    """(file, scope, span) for every span of the traces-*<suffix> files in d (OTLP/JSON mapping)."""
    for f in sorted(os.listdir(d)):
        if not (f.startswith("traces-") and f.endswith(suffix)):
            continue
        req = load(os.path.join(d, f), ExportTraceServiceRequest)
        for rs in req.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    yield f, ss.get("scope", {}), sp


def val(v):
    if not isinstance(v, dict):
        return v
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return v[k]
    return json.dumps(v)[:80]


def idhex(s):
    if s and len(s) in (24, 44) or (s and not all(c in "0123456789abcdef" for c in s)):
        try:
            return base64.b64decode(s).hex()
        except Exception:
            return s
    return s


def main():
    d = sys.argv[1]
    show_all = "--attrs" in sys.argv
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        if f.startswith("traces-"):
            req = load(p, ExportTraceServiceRequest)
            for rs in req.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    scope = ss.get("scope", {}).get("name")
                    for sp in ss.get("spans", []):
                        print(f, "SPAN", idhex(sp.get("traceId")), idhex(sp.get("spanId")), "parent", idhex(sp.get("parentSpanId")),
                              sp.get("kind"), repr(sp.get("name")), "scope", scope, "status", sp.get("status", {}).get("code"))
                        for a in sp.get("attributes", []):
                            if show_all or any(w in a["key"] for w in INTERESTING):
                                print("      ", a["key"], "=", str(val(a["value"]))[:160])
        elif f.startswith("logs-"):
            req = load(p, ExportLogsServiceRequest)
            for rl in req.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for lr in sl.get("logRecords", []):
                        print(f, "LOG", lr.get("eventName"), idhex(lr.get("traceId")), idhex(lr.get("spanId")))
                        for a in lr.get("attributes", []):
                            if show_all or any(w in a["key"] for w in INTERESTING):
                                print("      ", a["key"], "=", str(val(a["value"]))[:160])


if __name__ == "__main__":
    main()

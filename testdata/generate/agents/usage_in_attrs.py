#!/usr/bin/env python3
"""List every place a dump's span attributes carry token usage (diagnostic; needs opentelemetry-proto).

For each span: flat numeric attributes whose key mentions token/usage, and, inside
JSON-valued string attributes (input.value, output.value, usage, ...), every object
under a key "usage", "token_usage" or "usage_metadata" (with its JSON path), so that
usage repeated in payloads is visible. Each input count is matched to its ledger call
(input 1000 + 17k identifies request k).

  python usage_in_attrs.py testdata/llm/agents-logfire [--json]
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llm"))
from inspect_dump import idhex, iter_spans, val  # noqa: E402

USAGE_KEYS = ("usage", "token_usage", "usage_metadata")
INPUT_NAMES = ("input_tokens", "prompt_tokens")


def req_no(n):
    if isinstance(n, int) and n > 1000 and (n - 1000) % 17 == 0:
        return (n - 1000) // 17
    return None


def walk(obj, path, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = path + "." + str(k)
            if k in USAGE_KEYS and isinstance(v, dict) and v:
                out.append((p, v))
            walk(v, p, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            walk(v, "%s[%d]" % (path, i), out)
    elif isinstance(obj, str) and len(obj) > 1 and obj[0] in "{[":
        try:
            walk(json.loads(obj), path + "<json>", out)
        except ValueError:
            pass


def spans(d):
    for f, scope, sp in iter_spans(d):
        yield f, scope.get("name"), sp


def main():
    d = sys.argv[1]
    for f, scope, sp in spans(d):
        attrs = {a["key"]: val(a["value"]) for a in sp.get("attributes", [])}
        kind = attrs.get("openinference.span.kind", sp.get("kind"))
        lines = []
        for k, v in attrs.items():
            if ("token" in k or "usage" in k) and not (isinstance(v, str) and v[:1] in "{["):
                lines.append("   flat  %s = %s" % (k, v))
        for k, v in attrs.items():
            if k == "logfire.json_schema":
                continue  # the schema names keys, it carries no counts
            found = []
            if isinstance(v, str) and v[:1] == "{":
                try:
                    v = json.loads(v)
                except ValueError:
                    pass
            walk({k: v}, "", found)
            for p, u in found:
                n = next((u[x] for x in INPUT_NAMES if isinstance(u.get(x), int)), None)
                lines.append("   json  %s = %s   -> request %s" % (p, json.dumps(u, separators=(",", ":")), req_no(n)))
        print("%s %s %s %-40r kind=%s scope=%s" % (f, idhex(sp.get("traceId"))[:8], idhex(sp.get("spanId")), sp.get("name"), kind, scope))
        for ln in lines:
            print(ln)


if __name__ == "__main__":
    main()

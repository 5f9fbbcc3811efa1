#!/usr/bin/env python3
"""Build truth.json from the fake server's ledger (never from exported spans).

Usage: python truth.py LEDGER.json OUT/truth.json [--sdk NAME --versions JSON]
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth_core as core  # noqa: E402  (../truth_core.py)
from truth_core import span_id_of, trace_id_of  # noqa: E402,F401  (also used by the agents and aisdk suites)

KEYS = core.OPENAI_KEYS
# what a call record takes from fake_openai.py's ledger entry as it is (also the agents and aisdk suites')
CALL_FIELDS = ("endpoint", "status", "stream", "include_usage", "requested_model", "model", "response_id",
               "previous_response_id", "finish_reason")


# OpenAI usage as sent -> flat counts (also the agents, aisdk and anthropic suites')
norm_usage = core.openai_usage


def build(ledger, sdk=None, extra=None):
    calls = []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        app_tid = trace_id_of(e.get("app_traceparent"))
        call = {
            **core.call_identity(e, app_tid),
            **core.ledger_fields(e, CALL_FIELDS),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            # span id of the instrumentation's LLM span when it propagated W3C traceparent
            # on the HTTP request (OpenLLMetry does, for chat completions only)
            "instrumentation_span_id": span_id_of(e.get("traceparent")),
            "app_traceparent": e.get("app_traceparent"),
        }
        calls.append(call)
    total, by = core.summarize(calls, [core.SCENARIO, core.TRACE, core.SESSION, core.USER], KEYS)
    out = {
        "sdk": sdk,
        "source": "ledger of fake_openai.py (what the server sent on the wire), not the exported telemetry",
        "usage_semantics": "input_tokens = prompt_tokens/input_tokens as sent (INCLUDES cached_input_tokens); "
        "output_tokens = completion_tokens/output_tokens as sent (INCLUDES reasoning_tokens); "
        "total_tokens = input + output. usage null = the server sent no usage (stream without "
        "include_usage, or an error).",
        "trace_id_source": "trace_id = trace id of the app's current OTel span when the call was made "
        "(X-App-Traceparent header injected by scenarios.py), null if none",
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
    }
    if extra:
        out.update(extra)
    return out


def main():
    ledger = json.load(open(sys.argv[1]))
    sdk = None
    if "--sdk" in sys.argv:
        sdk = sys.argv[sys.argv.index("--sdk") + 1]
    with open(sys.argv[2], "w") as f:
        json.dump(build(ledger, sdk), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

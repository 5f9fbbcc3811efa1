#!/usr/bin/env python3
"""truth.json for the aisdk suite, from the fake server's ledger only (never from spans).

Same as ../llm/truth.py (whose norm_usage it reuses) plus the fields every suite's
truth has: per call "provider", usage "cache_write_tokens" / "cache_write_1h_tokens"
(always 0: OpenAI reports no cache writes), "per_model" (by returned model, or the
requested one when the call failed) and "known_sdk_defects" (from
known_sdk_defects-<sdk>.json, written by hand after inspecting the dump).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llm"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth as base  # noqa: E402  (../llm/truth.py)
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.KEYS


def norm_usage(u):
    n = base.norm_usage(u)
    if n is None:
        return None
    return core.with_cache_writes(n, total=n["input_tokens"] + n["output_tokens"])


def build(ledger, sdk=None, extra=None):
    calls = []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        tid = core.trace_id_of(e.get("app_traceparent"))
        call = {
            **core.call_identity(e, tid),
            "provider": "openai",
            **core.ledger_fields(e, base.CALL_FIELDS),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "app_traceparent": e.get("app_traceparent"),
            # span id part of X-App-Traceparent: the OTel span active when fetch() ran,
            # i.e. the SDK's model-call span (ai 4: ai.*.doGenerate/doStream; ai 7: chat {model})
            "sdk_span_id": core.span_id_of(e.get("app_traceparent")),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
        }
        calls.append(call)
    total, by = core.summarize(
        calls, [core.SCENARIO, core.TRACE, core.SESSION, core.USER, core.MODEL_OR_REQUESTED], KEYS
    )
    out = {
        "sdk": sdk,
        "source": "ledger of fake_openai.py (what the server sent on the wire), not the exported telemetry",
        "usage_semantics": "input_tokens = prompt_tokens/input_tokens as sent (INCLUDES cached_input_tokens); "
        "cache_write_tokens / cache_write_1h_tokens = 0 (OpenAI sends none); "
        "output_tokens = completion_tokens/output_tokens as sent (INCLUDES reasoning_tokens); "
        "total_tokens = input + output. usage null = the server sent no usage (HTTP 400).",
        "trace_id_source": "trace_id = trace id of X-App-Traceparent, the W3C traceparent of the OTel context "
        "active when the app's fetch() sent the request (a custom fetch given to createOpenAI injects it "
        "with @opentelemetry/api propagation); that context is the SDK's model-call span, inside the "
        "scenario's root span, so trace_id is the scenario trace's id",
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
    }
    if extra:
        out.update(extra)
    return out

#!/usr/bin/env python3
"""truth.json for the aisdk suite, from the fake server's ledger only (never from spans).

Same as ../llm/truth.py (whose norm_usage it reuses) plus the fields of the common
brief: per call "provider", usage "cache_write_tokens" / "cache_write_1h_tokens"
(always 0: OpenAI reports no cache writes), "per_model" (by returned model, or the
requested one when the call failed) and "known_sdk_defects" (from
known_sdk_defects-<sdk>.json, written by hand after inspecting the dump).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llm"))
import truth as base  # noqa: E402

KEYS = [
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
]


def norm_usage(u):
    n = base.norm_usage(u)
    if n is None:
        return None
    return {
        "input_tokens": n["input_tokens"],
        "cached_input_tokens": n["cached_input_tokens"],
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": n["output_tokens"],
        "reasoning_tokens": n["reasoning_tokens"],
        "total_tokens": n["input_tokens"] + n["output_tokens"],
    }


def zero():
    return {k: 0 for k in KEYS} | {"calls": 0, "calls_with_usage": 0}


def add(acc, u):
    acc["calls"] += 1
    if u is not None:
        acc["calls_with_usage"] += 1
        for k in KEYS:
            acc[k] += u[k]


def build(ledger, sdk=None, extra=None):
    calls = []
    by = {"scenario": {}, "trace": {}, "session": {}, "user": {}, "model": {}}
    total = zero()
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        tid = base.trace_id_of(e.get("app_traceparent"))
        call = {
            "request_no": e["request_no"],
            "scenario": e.get("scenario"),
            "trace_name": e.get("trace_name"),
            "trace_id": tid,
            "session_id": e.get("session_id"),
            "user_id": e.get("user_id"),
            "provider": "openai",
            "endpoint": e["endpoint"],
            "status": e.get("status"),
            "stream": e.get("stream"),
            "include_usage": e.get("include_usage"),
            "requested_model": e.get("requested_model"),
            "model": e.get("model"),
            "response_id": e.get("response_id"),
            "previous_response_id": e.get("previous_response_id"),
            "finish_reason": e.get("finish_reason"),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "app_traceparent": e.get("app_traceparent"),
            # span id part of X-App-Traceparent: the OTel span active when fetch() ran,
            # i.e. the SDK's model-call span (ai 4: ai.*.doGenerate/doStream; ai 7: chat {model})
            "sdk_span_id": base.span_id_of(e.get("app_traceparent")),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
        }
        calls.append(call)
        add(total, u)
        for dim, key in (
            ("scenario", call["scenario"]),
            ("trace", call["trace_name"]),
            ("session", call["session_id"]),
            ("user", call["user_id"]),
            ("model", call["model"] or call["requested_model"]),
        ):
            if key is None:
                continue
            acc = by[dim].setdefault(key, zero())
            add(acc, u)
            if dim == "trace":
                acc.setdefault("trace_ids", [])
                if tid and tid not in acc["trace_ids"]:
                    acc["trace_ids"].append(tid)
                acc["scenario"] = call["scenario"]
                acc["session_id"] = call["session_id"]
                acc["user_id"] = call["user_id"]
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
        "per_scenario": by["scenario"],
        "per_trace": by["trace"],
        "per_session": by["session"],
        "per_user": by["user"],
        "per_model": by["model"],
    }
    if extra:
        out.update(extra)
    return out

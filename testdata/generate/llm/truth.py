#!/usr/bin/env python3
"""Build truth.json from the fake server's ledger (never from exported spans).

Usage: python truth.py LEDGER.json OUT/truth.json [--sdk NAME --versions JSON]
"""
import json
import sys

KEYS = ["input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "total_tokens"]


def norm_usage(u):
    """OpenAI usage as sent -> flat counts (input includes cached, output includes reasoning)."""
    if u is None:
        return None
    if "prompt_tokens" in u:  # chat completions shape
        return {
            "input_tokens": u["prompt_tokens"],
            "cached_input_tokens": (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
            "output_tokens": u["completion_tokens"],
            "reasoning_tokens": (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0),
            "total_tokens": u["total_tokens"],
        }
    return {  # Responses API shape
        "input_tokens": u["input_tokens"],
        "cached_input_tokens": (u.get("input_tokens_details") or {}).get("cached_tokens", 0),
        "output_tokens": u["output_tokens"],
        "reasoning_tokens": (u.get("output_tokens_details") or {}).get("reasoning_tokens", 0),
        "total_tokens": u["total_tokens"],
    }


def zero():
    return {k: 0 for k in KEYS} | {"calls": 0, "calls_with_usage": 0}


def add(acc, u):
    acc["calls"] += 1
    if u is not None:
        acc["calls_with_usage"] += 1
        for k in KEYS:
            acc[k] += u[k]


def trace_id_of(tp):
    if not tp:
        return None
    parts = tp.split("-")
    return parts[1] if len(parts) == 4 else None


def span_id_of(tp):
    if not tp:
        return None
    parts = tp.split("-")
    return parts[2] if len(parts) == 4 else None


def build(ledger, sdk=None, extra=None):
    calls = []
    by = {"scenario": {}, "trace": {}, "session": {}, "user": {}}
    total = zero()
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        app_tid = trace_id_of(e.get("app_traceparent"))
        call = {
            "request_no": e["request_no"],
            "scenario": e.get("scenario"),
            "trace_name": e.get("trace_name"),
            "trace_id": app_tid,
            "session_id": e.get("session_id"),
            "user_id": e.get("user_id"),
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
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            # span id of the instrumentation's LLM span when it propagated W3C traceparent
            # on the HTTP request (OpenLLMetry does, for chat completions only)
            "instrumentation_span_id": span_id_of(e.get("traceparent")),
            "app_traceparent": e.get("app_traceparent"),
        }
        calls.append(call)
        add(total, u)
        for dim, key in (
            ("scenario", call["scenario"]),
            ("trace", call["trace_name"]),
            ("session", call["session_id"]),
            ("user", call["user_id"]),
        ):
            if key is None:
                continue
            acc = by[dim].setdefault(key, zero())
            add(acc, u)
            if dim == "trace":
                acc.setdefault("trace_ids", [])
                if app_tid and app_tid not in acc["trace_ids"]:
                    acc["trace_ids"].append(app_tid)
                acc["scenario"] = call["scenario"]
                acc["session_id"] = call["session_id"]
                acc["user_id"] = call["user_id"]
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
        "per_scenario": by["scenario"],
        "per_trace": by["trace"],
        "per_session": by["session"],
        "per_user": by["user"],
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

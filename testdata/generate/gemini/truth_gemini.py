#!/usr/bin/env python3
"""Build truth.json from fake_gemini.py's ledger (never from exported telemetry).

  python truth_gemini.py LEDGER.json OUT/truth.json

Normalized usage (one meaning whatever the provider):
  input_tokens          = promptTokenCount (+ toolUsePromptTokenCount): Google's prompt
                          count already INCLUDES cachedContentTokenCount
  cached_input_tokens   = cachedContentTokenCount
  cache_write_tokens    = 0 (the Gemini API reports no cache writes in usageMetadata;
  cache_write_1h_tokens = 0  caches.create is a separate request, in other_requests)
  output_tokens         = candidatesTokenCount + thoughtsTokenCount (Google's candidates
                          count EXCLUDES thoughts, which are billed as output)
  reasoning_tokens      = thoughtsTokenCount
  total_tokens          = input + output (= Google's totalTokenCount)
"""
import json
import sys

KEYS = [
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
]
MODEL_ENDPOINTS = ("generateContent", "streamGenerateContent")


def norm_usage(u):
    if u is None:
        return None
    prompt = u.get("promptTokenCount", 0) + u.get("toolUsePromptTokenCount", 0)
    out = u.get("candidatesTokenCount", 0) + u.get("thoughtsTokenCount", 0)
    n = {
        "input_tokens": prompt,
        "cached_input_tokens": u.get("cachedContentTokenCount", 0),
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": out,
        "reasoning_tokens": u.get("thoughtsTokenCount", 0),
        "total_tokens": prompt + out,
    }
    assert n["total_tokens"] == u["totalTokenCount"], u
    return n


def zero():
    return {k: 0 for k in KEYS} | {"calls": 0, "calls_with_usage": 0}


def add(acc, u):
    acc["calls"] += 1
    if u is not None:
        acc["calls_with_usage"] += 1
        for k in KEYS:
            acc[k] += u[k]


def trace_id_of(tp):
    parts = (tp or "").split("-")
    return parts[1] if len(parts) == 4 else None


def span_id_of(tp):
    parts = (tp or "").split("-")
    return parts[2] if len(parts) == 4 else None


def build(ledger, sdk=None, extra=None):
    calls, other = [], []
    by = {"scenario": {}, "trace": {}, "session": {}, "user": {}, "model": {}}
    total = zero()
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        tid = trace_id_of(e.get("app_traceparent"))
        if e["endpoint"] not in MODEL_ENDPOINTS:
            other.append(
                {
                    "request_no": e["request_no"],
                    "scenario": e.get("scenario"),
                    "trace_name": e.get("trace_name"),
                    "trace_id": tid,
                    "endpoint": e["endpoint"],
                    "status": e.get("status"),
                    "model": e.get("model"),
                    "response_id": e.get("response_id"),
                    "usage_as_sent": e.get("usage_as_sent"),
                }
            )
            continue
        u = norm_usage(e.get("usage"))
        call = {
            "request_no": e["request_no"],
            "scenario": e.get("scenario"),
            "trace_name": e.get("trace_name"),
            "trace_id": tid,
            "session_id": e.get("session_id"),
            "user_id": e.get("user_id"),
            "provider": "gemini",
            "endpoint": e["endpoint"],
            "path": e.get("path"),
            "status": e.get("status"),
            "stream": e.get("stream"),
            "requested_model": e.get("requested_model"),
            "model": e.get("model"),
            "response_id": e.get("response_id"),
            "finish_reason": e.get("finish_reason"),
            "thinks": e.get("thinks"),
            "include_thoughts": e.get("include_thoughts"),
            "thinking_budget": e.get("thinking_budget"),
            "cached_content": e.get("cached_content"),
            "reply_text": e.get("reply_text"),
            "thought_text": e.get("thought_text"),
            "function_call": e.get("function_call"),
            "usage": u,
            "usage_as_sent": e.get("usage_as_sent"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            "instrumentation_span_id": span_id_of(e.get("traceparent")),
            "app_traceparent": e.get("app_traceparent"),
        }
        if e.get("stream_usage_chunks") is not None:
            call["stream_usage_chunks"] = e["stream_usage_chunks"]
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
        "source": "ledger of fake_gemini.py (what the server sent on the wire), not the exported telemetry",
        "usage_semantics": __doc__.split("Normalized usage (one meaning whatever the provider):")[1].strip(),
        "trace_id_source": "trace_id = trace id of the app's current OTel span when the call was made "
        "(X-App-Traceparent header set by scenarios_gemini.py), null if none",
        "per_model_key": "model as returned (modelVersion); the requested model for an error (no modelVersion)",
        "calls": calls,
        "other_requests": other,
        "totals": total,
        "per_scenario": by["scenario"],
        "per_trace": by["trace"],
        "per_session": by["session"],
        "per_user": by["user"],
        "per_model": by["model"],
        "known_sdk_defects": [],
    }
    if extra:
        out.update(extra)
    return out


def main():
    with open(sys.argv[2], "w") as f:
        json.dump(build(json.load(open(sys.argv[1]))), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

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
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.KEYS
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


def build(ledger, sdk=None, extra=None):
    calls, other = [], []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        tid = core.trace_id_of(e.get("app_traceparent"))
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
            **core.call_identity(e, tid),
            "provider": "gemini",
            **core.ledger_fields(e, ("endpoint", "path", "status", "stream", "requested_model", "model", "response_id",
                                     "finish_reason", "thinks", "include_thoughts", "thinking_budget",
                                     "cached_content", "reply_text", "thought_text", "function_call")),
            "usage": u,
            "usage_as_sent": e.get("usage_as_sent"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            "instrumentation_span_id": core.span_id_of(e.get("traceparent")),
            "app_traceparent": e.get("app_traceparent"),
        }
        if e.get("stream_usage_chunks") is not None:
            call["stream_usage_chunks"] = e["stream_usage_chunks"]
        calls.append(call)
    total, by = core.summarize(
        calls, [core.SCENARIO, core.TRACE, core.SESSION, core.USER, core.MODEL_OR_REQUESTED], KEYS
    )
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
        **core.per_groups(by),
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

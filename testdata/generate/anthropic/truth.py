#!/usr/bin/env python3
"""Build truth.json from the fake provider's ledger (never from exported spans).

Handles ledgers of fake_anthropic.py (provider "anthropic") and of
testdata/generate/llm/fake_openai.py (no provider key: "openai"), so other
suites (LiteLLM) can reuse it.

Usage: python truth.py LEDGER.json OUT/truth.json [--sdk NAME]
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.KEYS


def norm_usage(u):
    """Usage as sent -> one meaning: input INCLUDES cache reads and writes, output INCLUDES thinking."""
    if u is None:
        return None
    if "prompt_tokens" not in u and (
        "cache_creation_input_tokens" in u or "cache_read_input_tokens" in u or "cache_creation" in u
    ):  # Anthropic
        read = u.get("cache_read_input_tokens") or 0
        write = u.get("cache_creation_input_tokens") or 0
        inp = u["input_tokens"] + read + write
        out = u["output_tokens"]
        return {
            "input_tokens": inp,
            "cached_input_tokens": read,
            "cache_write_tokens": write,
            "cache_write_1h_tokens": (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0),
            "output_tokens": out,
            "reasoning_tokens": (u.get("output_tokens_details") or {}).get("thinking_tokens", 0),
            "total_tokens": inp + out,
        }
    n = core.openai_usage(u)  # OpenAI chat completions or Responses (no cache writes); total = input + output
    return core.with_cache_writes(n, total=n["input_tokens"] + n["output_tokens"])


def build(ledger, sdk=None, extra=None, known_sdk_defects=None):
    calls = []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        app_tid = core.trace_id_of(e.get("app_traceparent"))
        call = {
            **core.call_identity(e, app_tid),
            "provider": e.get("provider", "openai"),
            **core.ledger_fields(e, ("endpoint", "status", "stream", "requested_model", "model", "response_id",
                                     "finish_reason", "thinking", "cache_breakpoints")),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "usage_stream_events": e.get("usage_stream_events"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            "instrumentation_span_id": core.span_id_of(e.get("traceparent")),
            "app_traceparent": e.get("app_traceparent"),
        }
        calls.append(call)
    total, by = core.summarize(
        calls, [core.SCENARIO, core.TRACE, core.SESSION, core.USER, core.MODEL_OR_REQUESTED], KEYS
    )
    out = {
        "sdk": sdk,
        "source": "ledger of the fake provider server (what it sent on the wire), not the exported telemetry",
        "usage_semantics": "input_tokens = ALL prompt tokens (Anthropic: input_tokens + cache_read_input_tokens + "
        "cache_creation_input_tokens); cached_input_tokens = cache reads; cache_write_tokens = all cache writes "
        "(cache_creation_input_tokens); cache_write_1h_tokens = the 1-hour part of the writes "
        "(cache_creation.ephemeral_1h_input_tokens; the rest are 5-minute writes); output_tokens = output_tokens as "
        "sent (INCLUDES thinking); reasoning_tokens = output_tokens_details.thinking_tokens; total = input + output. "
        "For a stream, usage_as_sent is the message's real usage (message_start's input side with message_delta's "
        "final output_tokens); usage_stream_events has both events' usage exactly as streamed (message_start "
        "carries a provisional output_tokens = 4, which is NOT part of the total). usage null = no usage (error).",
        "trace_id_source": "trace_id = trace id of the app's current OTel span when the call was made "
        "(X-App-Traceparent header injected by the harness), null if none",
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
    }
    if extra:
        out.update(extra)
    out["known_sdk_defects"] = known_sdk_defects or []
    return out


def main():
    ledger = json.load(open(sys.argv[1]))
    sdk = sys.argv[sys.argv.index("--sdk") + 1] if "--sdk" in sys.argv else None
    with open(sys.argv[2], "w") as f:
        json.dump(build(ledger, sdk), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build truth.json from the fake provider's ledger (never from exported spans).

Handles ledgers of fake_anthropic.py (provider "anthropic") and of
testdata/generate/llm/fake_openai.py (no provider key: "openai"), so other
suites (LiteLLM) can reuse it.

Usage: python truth.py LEDGER.json OUT/truth.json [--sdk NAME]
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


def norm_usage(u):
    """Usage as sent -> one meaning: input INCLUDES cache reads and writes, output INCLUDES thinking."""
    if u is None:
        return None
    if "prompt_tokens" in u:  # OpenAI chat completions
        inp, out = u["prompt_tokens"], u["completion_tokens"]
        return {
            "input_tokens": inp,
            "cached_input_tokens": (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
            "cache_write_tokens": 0,
            "cache_write_1h_tokens": 0,
            "output_tokens": out,
            "reasoning_tokens": (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0),
            "total_tokens": inp + out,
        }
    if "cache_creation_input_tokens" in u or "cache_read_input_tokens" in u or "cache_creation" in u:  # Anthropic
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
    inp, out = u["input_tokens"], u["output_tokens"]  # OpenAI Responses
    return {
        "input_tokens": inp,
        "cached_input_tokens": (u.get("input_tokens_details") or {}).get("cached_tokens", 0),
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": out,
        "reasoning_tokens": (u.get("output_tokens_details") or {}).get("reasoning_tokens", 0),
        "total_tokens": inp + out,
    }


def zero():
    return {k: 0 for k in KEYS} | {"calls": 0, "calls_with_usage": 0}


def add(acc, u):
    acc["calls"] += 1
    if u is not None:
        acc["calls_with_usage"] += 1
        for k in KEYS:
            acc[k] += u[k]


def part_of(tp, i):
    if not tp:
        return None
    parts = tp.split("-")
    return parts[i] if len(parts) == 4 else None


def build(ledger, sdk=None, extra=None, known_sdk_defects=None):
    calls = []
    by = {"scenario": {}, "trace": {}, "session": {}, "user": {}, "model": {}}
    total = zero()
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm_usage(e.get("usage"))
        app_tid = part_of(e.get("app_traceparent"), 1)
        call = {
            "request_no": e["request_no"],
            "scenario": e.get("scenario"),
            "trace_name": e.get("trace_name"),
            "trace_id": app_tid,
            "session_id": e.get("session_id"),
            "user_id": e.get("user_id"),
            "provider": e.get("provider", "openai"),
            "endpoint": e["endpoint"],
            "status": e.get("status"),
            "stream": e.get("stream"),
            "requested_model": e.get("requested_model"),
            "model": e.get("model"),
            "response_id": e.get("response_id"),
            "finish_reason": e.get("finish_reason"),
            "thinking": e.get("thinking"),
            "cache_breakpoints": e.get("cache_breakpoints"),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "usage_stream_events": e.get("usage_stream_events"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            "instrumentation_span_id": part_of(e.get("traceparent"), 2),
            "app_traceparent": e.get("app_traceparent"),
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
                if app_tid and app_tid not in acc["trace_ids"]:
                    acc["trace_ids"].append(app_tid)
                acc["scenario"] = call["scenario"]
                acc["session_id"] = call["session_id"]
                acc["user_id"] = call["user_id"]
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
        "per_scenario": by["scenario"],
        "per_trace": by["trace"],
        "per_session": by["session"],
        "per_user": by["user"],
        "per_model": by["model"],
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

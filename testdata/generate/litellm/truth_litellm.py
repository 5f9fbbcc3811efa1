#!/usr/bin/env python3
"""truth.json for the LiteLLM suite, from the fake servers' ledgers only.

Two ledgers (fake_openai.py, fake_anthropic.py), each with its own request
counter; `request_no` here is the global order of the requests (by arrival
time), `server_request_no` the fake server's own counter k (the one its usage
numbers are derived from).

"expected_cost" per call: the ledger usage priced with LiteLLM's own price list
(litellm.model_cost, bundled in the installed wheel), as a reference for the
gen_ai.cost.* attributes LiteLLM writes: uncached input * input_cost_per_token +
cache reads * cache_read_input_token_cost + 5m writes *
cache_creation_input_token_cost + 1h writes * cache_creation_input_token_cost_above_1hr
+ output * output_cost_per_token.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.KEYS


def norm_usage(u):
    """Usage as sent -> one meaning: input INCLUDES cache reads and writes, output INCLUDES reasoning/thinking."""
    if u is None:
        return None
    if "prompt_tokens" in u:  # OpenAI chat completions
        inp, out = u["prompt_tokens"], u["completion_tokens"]
        return {
            "input_tokens": inp,
            "cached_input_tokens": (u.get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0,
            "cache_write_tokens": 0,
            "cache_write_1h_tokens": 0,
            "output_tokens": out,
            "reasoning_tokens": (u.get("completion_tokens_details") or {}).get("reasoning_tokens", 0) or 0,
            "total_tokens": inp + out,
        }
    # Anthropic Messages
    read = u.get("cache_read_input_tokens") or 0
    write = u.get("cache_creation_input_tokens") or 0
    inp = u["input_tokens"] + read + write
    out = u["output_tokens"]
    return {
        "input_tokens": inp,
        "cached_input_tokens": read,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0) or 0,
        "output_tokens": out,
        "reasoning_tokens": (u.get("output_tokens_details") or {}).get("thinking_tokens", 0) or 0,
        "total_tokens": inp + out,
    }


def expected_cost(model_cost, model, u):
    """Ledger usage priced with LiteLLM's price list (None when the model is not in it)."""
    if u is None or not model:
        return None
    p = model_cost.get(model)
    if p is None:
        return None
    cr = u["cached_input_tokens"]
    w = u["cache_write_tokens"]
    w1 = u["cache_write_1h_tokens"]
    w5 = w - w1
    uncached = u["input_tokens"] - cr - w
    inp_rate = p.get("input_cost_per_token") or 0.0
    read_rate = p.get("cache_read_input_token_cost", inp_rate)
    w5_rate = p.get("cache_creation_input_token_cost", inp_rate)
    w1_rate = p.get("cache_creation_input_token_cost_above_1hr", w5_rate)
    out_rate = p.get("output_cost_per_token") or 0.0
    parts = {
        "uncached_input_cost": uncached * inp_rate,
        "cache_read_cost": cr * read_rate,
        "cache_creation_5m_cost": w5 * w5_rate,
        "cache_creation_1h_cost": w1 * w1_rate,
        "output_cost": u["output_tokens"] * out_rate,
    }
    parts["input_side_cost"] = (parts["uncached_input_cost"] + parts["cache_read_cost"]
                                + parts["cache_creation_5m_cost"] + parts["cache_creation_1h_cost"])
    parts["total_cost"] = parts["input_side_cost"] + parts["output_cost"]
    parts["rates"] = {"input_cost_per_token": inp_rate, "cache_read_input_token_cost": read_rate,
                      "cache_creation_input_token_cost": w5_rate,
                      "cache_creation_input_token_cost_above_1hr": w1_rate, "output_cost_per_token": out_rate}
    return {k: (round(v, 12) if isinstance(v, float) else v) for k, v in parts.items()}


def build(ledger, sdk=None, extra=None, model_cost=None):
    calls = []
    ordered = sorted(ledger, key=lambda e: e["time"])
    for n, e in enumerate(ordered, 1):
        u = norm_usage(e.get("usage"))
        tid = core.trace_id_of(e.get("app_traceparent"))
        provider = e.get("provider") or "openai"
        call = {
            "request_no": n,
            "server_request_no": e["request_no"],
            "scenario": e.get("scenario"),
            "trace_name": e.get("trace_name"),
            "trace_id": tid,
            "session_id": e.get("session_id"),
            "user_id": e.get("user_id"),
            "provider": provider,
            "endpoint": e.get("endpoint"),
            "status": e.get("status"),
            "stream": e.get("stream"),
            "requested_model": e.get("requested_model"),
            "model": e.get("model"),
            "response_id": e.get("response_id"),
            "finish_reason": e.get("finish_reason"),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "app_traceparent": e.get("app_traceparent"),
        }
        for k in ("thinking", "cache_breakpoints", "usage_stream_events"):
            if k in e:
                call[k] = e[k]
        if model_cost is not None:
            call["expected_cost"] = expected_cost(model_cost, e.get("model"), u)
        calls.append(call)
    total, by = core.summarize(calls, [core.TRACE, core.SESSION, core.USER, core.MODEL], KEYS,
                               trace_fields=("session_id", "user_id"))
    out = {
        "sdk": sdk,
        "source": "ledgers of fake_openai.py and fake_anthropic.py (what the servers sent on the wire), "
                  "not the exported telemetry",
        "usage_semantics": "input_tokens = ALL prompt tokens INCLUDING cache reads and writes (Anthropic: "
                           "input_tokens + cache_read_input_tokens + cache_creation_input_tokens); "
                           "cached_input_tokens = cache reads; cache_write_tokens = all cache writes; "
                           "cache_write_1h_tokens = the 1h part of the writes; output_tokens INCLUDES "
                           "reasoning/thinking; total_tokens = input + output. usage null = none sent (error).",
        "trace_id_source": "trace id of the app's current OTel span when the call was made "
                           "(X-App-Traceparent header), null if none",
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
    }
    if extra:
        out.update(extra)
    return out

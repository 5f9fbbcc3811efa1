"""truth.json of the langfuse2 suite (stdlib only).

Built from the fake server's ledger (what it answered, with its usage) and, for the
manual generations of scenario f that make no request, from the numbers the app passed
to the SDK (app.py's App.manual). Never from the saved ingestion bodies.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.OPENAI_KEYS
CALL_FIELDS = ("endpoint", "status", "stream", "include_usage", "requested_model", "model", "response_id",
               "finish_reason")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")

SOURCE = ("ledger of fake_openai_assistants.py (what the fake OpenAI server answered, with its usage) for the "
          "calls with a request_no; for the endpoint \"manual\" calls (scenario f, no request made) the numbers "
          "the app passed to the SDK; never the saved ingestion bodies")
USAGE_SEMANTICS = (
    "input_tokens INCLUDES cached_input_tokens; output_tokens INCLUDES reasoning_tokens; total_tokens = "
    "input_tokens + output_tokens (or the total as sent/passed, always equal here). "
    "Ledger calls: chat.completions = OpenAI usage as the server sent it (prompt_tokens, completion_tokens, "
    "prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens, total_tokens); "
    "assistants.run = the completed run's usage (prompt_tokens, completion_tokens, total_tokens; no cached or "
    "reasoning details, so 0). Manual calls (endpoint \"manual\", manual: true): usage={input, output, unit: "
    "TOKENS} -> input_tokens = input, output_tokens = output; usage={promptTokens, completionTokens, "
    "totalTokens} -> input_tokens = promptTokens, output_tokens = completionTokens, total_tokens = totalTokens; "
    "usage_details={input, output, cache_read_input_tokens} uses Langfuse's additive keys (input is the "
    "UNcached part, the keys sum to the total) -> input_tokens = input + cache_read_input_tokens, "
    "cached_input_tokens = cache_read_input_tokens, output_tokens = output; usage_details={input, output} -> "
    "input_tokens = input, output_tokens = output. A unit other than TOKENS (here CHARACTERS) is NOT token "
    "usage: that call has usage null and its numbers in non_token_usage (per call and summed at top level); "
    "it counts in calls but not in calls_with_usage or any token sum. usage null also = the server sent "
    "none (the HTTP 400 of scenario e)."
)
TRACE_ID_SOURCE = (
    "langfuse_trace_id = the Langfuse trace id the call belonged to, as the app saw it "
    "(langfuse_context.get_current_trace_id(), the id it passed, or the streamed generation's trace_id; "
    "X-App-Call / X-App-Trace-Id headers in the ledger); trace_id = that id as the decoder maps it: a UUID "
    "(8-4-4-4-12 hex) -> its 32 hex digits lowercased without dashes, 32 lowercase hex -> as is, anything else "
    "(\"checkout-run-42\") -> null (the decoder hashes it)"
)


def map_trace_id(lf_id):
    if lf_id is None:
        return None
    if UUID.match(lf_id):
        return lf_id.replace("-", "").lower()
    if HEX32.match(lf_id):
        return lf_id
    return None


def manual_usage(m):
    """(token usage in KEYS or None, non-token usage or None) of the numbers passed."""
    u, d = m.get("usage"), m.get("usage_details")
    if u is not None:
        if "promptTokens" in u:
            return {"input_tokens": u["promptTokens"], "cached_input_tokens": 0, "output_tokens": u["completionTokens"],
                    "reasoning_tokens": 0, "total_tokens": u["totalTokens"]}, None
        unit = u.get("unit", "TOKENS")
        i, o = u.get("input", 0), u.get("output", 0)
        t = u.get("total", i + o)
        if unit != "TOKENS":
            return None, {"unit": unit, "input": i, "output": o, "total": t}
        return {"input_tokens": i, "cached_input_tokens": 0, "output_tokens": o, "reasoning_tokens": 0,
                "total_tokens": t}, None
    if d is not None:
        cached = d.get("cache_read_input_tokens", 0)
        i, o = d.get("input", 0) + cached, d.get("output", 0)
        return {"input_tokens": i, "cached_input_tokens": cached, "output_tokens": o, "reasoning_tokens": 0,
                "total_tokens": d.get("total", i + o)}, None
    return None, None


def build(ledger, app_calls, manual, extra=None):
    by_tag = {c["app_call"]: c for c in app_calls}
    calls = []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        rec = by_tag.get(e.get("app_call")) or {}
        lf_id = rec.get("langfuse_trace_id") or e.get("app_trace_id")
        if e.get("app_trace_id") and rec.get("langfuse_trace_id") and e["app_trace_id"] != rec["langfuse_trace_id"]:
            raise SystemExit("trace id mismatch for %s" % e.get("app_call"))
        u = core.openai_usage(e.get("usage"))
        calls.append({
            **core.call_identity(e, map_trace_id(lf_id)),
            "langfuse_trace_id": lf_id,
            "langfuse_observation_id": rec.get("langfuse_observation_id"),
            "manual": False,
            **core.ledger_fields(e, CALL_FIELDS),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "non_token_usage": None,
        })
    for n, m in enumerate(manual, 1):
        u, nt = manual_usage(m)
        passed = {k: m[k] for k in ("usage", "usage_details") if m.get(k) is not None}
        calls.append({
            "request_no": None,
            "manual_no": n,
            "scenario": m["scenario"],
            "trace_name": m["trace_name"],
            "trace_id": map_trace_id(m["langfuse_trace_id"]),
            "session_id": m["session_id"],
            "user_id": m["user_id"],
            "langfuse_trace_id": m["langfuse_trace_id"],
            "langfuse_observation_id": m["langfuse_observation_id"],
            "manual": True,
            "endpoint": "manual",
            "status": None,
            "stream": False,
            "include_usage": False,
            "requested_model": m["model"],
            "model": m["model"],
            "response_id": None,
            "finish_reason": None,
            "generation_name": m["generation_name"],
            "usage": u,
            "usage_as_passed": passed,
            "non_token_usage": nt,
        })
    total, by = core.summarize(calls, [core.SCENARIO, core.TRACE, core.SESSION, core.USER], KEYS)
    for name, acc in by["trace"].items():
        acc["langfuse_trace_ids"] = sorted({c["langfuse_trace_id"] for c in calls if c["trace_name"] == name
                                            and c["langfuse_trace_id"]})
    nt = {"by_unit": {}, "per_trace": {}}
    for c in calls:
        x = c["non_token_usage"]
        if not x:
            continue
        for acc in (nt["by_unit"].setdefault(x["unit"], {"input": 0, "output": 0, "total": 0, "calls": 0}),
                    nt["per_trace"].setdefault(c["trace_name"], {}).setdefault(
                        x["unit"], {"input": 0, "output": 0, "total": 0, "calls": 0})):
            for k in ("input", "output", "total"):
                acc[k] += x[k]
            acc["calls"] += 1
    out = {
        "sdk": "langfuse2",
        "source": SOURCE,
        "usage_semantics": USAGE_SEMANTICS,
        "trace_id_source": TRACE_ID_SOURCE,
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
        "non_token_usage": nt,
    }
    if extra:
        out.update(extra)
    return out

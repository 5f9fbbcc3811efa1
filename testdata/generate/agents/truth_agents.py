#!/usr/bin/env python3
"""Build truth.json for the agents suite from the fake server's ledger (never from spans).

Same calls as testdata/generate/llm/truth.py plus the fields every suite's truth has: provider,
cache_write_tokens / cache_write_1h_tokens (always 0: OpenAI reports no cache writes),
per_model (by returned model) and known_sdk_defects (from KNOWN_SDK_DEFECTS below,
written after inspecting the dumps with inspect_dump.py; see README.md).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llm"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import truth as llm_truth  # noqa: E402  (../llm/truth.py)
import truth_core as core  # noqa: E402  (../truth_core.py)

KEYS = core.KEYS

# Filled by inspecting the dumps (inspect_dump.py DIR --attrs). request_no -> entries.
_OI_GEN = ("OpenInference 'generation' span (Chat Completions model): only llm.token_count.prompt and "
           "llm.token_count.completion are written; _get_attributes_from_chat_completions_usage reads only "
           "input_tokens/output_tokens of the SDK's GenerationSpanData.usage, which does hold "
           "input_tokens_details.cached_tokens / output_tokens_details.reasoning_tokens (the logfire dump of "
           "the same app shows them); no other attribute of the dump carries the count")
_GEN_MODEL = ("the Agents SDK's GenerationSpanData.model is the configured model name, not the response's "
              "model (the server answered gpt-4o-mini-2024-07-18)")
KNOWN_SDK_DEFECTS = {
    "agents-oi": [
        {"request_no": 3, "field": "cached_input_tokens", "ledger": 256,
         "recorded": "absent (no llm.token_count.prompt_details.cache_read)", "why": _OI_GEN},
        {"request_no": 4, "field": "reasoning_tokens", "ledger": 32,
         "recorded": "absent (no llm.token_count.completion_details.reasoning)", "why": _OI_GEN},
        {"request_no": 3, "field": "total_tokens", "ledger": 1110,
         "recorded": "absent (no llm.token_count.total)", "why": _OI_GEN},
        {"request_no": 4, "field": "total_tokens", "ledger": 1130,
         "recorded": "absent (no llm.token_count.total)", "why": _OI_GEN},
        {"request_no": 3, "field": "model", "ledger": "gpt-4o-mini-2024-07-18",
         "recorded": "llm.model_name = gpt-4o-mini", "why": _GEN_MODEL},
        {"request_no": 4, "field": "model", "ledger": "gpt-4o-mini-2024-07-18",
         "recorded": "llm.model_name = gpt-4o-mini", "why": _GEN_MODEL},
    ],
    "agents-logfire": [
        {"request_no": 3, "field": "model", "ledger": "gpt-4o-mini-2024-07-18",
         "recorded": "gen_ai.response.model = gpt-4o-mini (and gen_ai.request.model)", "why": _GEN_MODEL},
        {"request_no": 4, "field": "model", "ledger": "gpt-4o-mini-2024-07-18",
         "recorded": "gen_ai.response.model = gpt-4o-mini (and gen_ai.request.model)", "why": _GEN_MODEL},
        {"request_no": None, "field": "session_id", "ledger": "sess-agents-01 (RunConfig group_id and "
         "trace_metadata session_id)",
         "recorded": "only group_id = sess-agents-01 on the root 'OpenAI Agents trace: {name}' span; inside its "
         "metadata JSON the session_id is replaced by \"[Scrubbed due to 'session']\" (logfire.scrubbed lists it)",
         "why": "logfire's default scrubbing treats any key matching 'session' as sensitive; user_id survives "
         "only inside that root-span metadata JSON string"},
    ],
    "langgraph-oi": [],
}


def norm(u):
    return core.with_cache_writes(llm_truth.norm_usage(u))


def build(ledger, sdk, extra=None):
    calls = []
    for e in sorted(ledger, key=lambda e: e["request_no"]):
        u = norm(e.get("usage"))
        tid = core.trace_id_of(e.get("app_traceparent"))
        call = {
            **core.call_identity(e, tid),
            "provider": "openai",
            **core.ledger_fields(e, llm_truth.CALL_FIELDS),
            "usage": u,
            "usage_as_sent": e.get("usage"),
            "traceparent_sent_by_instrumentation": e.get("traceparent"),
            "app_traceparent": e.get("app_traceparent"),
            # span id of the OTel span that was current when the request was sent
            "app_span_id": core.span_id_of(e.get("app_traceparent")),
        }
        calls.append(call)
    total, by = core.summarize(calls, [core.TRACE, core.SESSION, core.USER, core.MODEL], KEYS,
                               trace_fields=("session_id", "user_id"))
    out = {
        "sdk": sdk,
        "source": "ledger of fake_openai.py (what the server sent on the wire), not the exported telemetry",
        "usage_semantics": "input_tokens = prompt/input tokens as sent (INCLUDES cached_input_tokens); "
        "output_tokens = completion/output tokens as sent (INCLUDES reasoning_tokens); "
        "total_tokens = input + output; cache writes are 0 (OpenAI reports none).",
        "trace_id_source": "trace_id = trace id of the OTel span current in the app when the HTTP request "
        "was sent (X-App-Traceparent added by apps.install_ledger_headers), null if none was current",
        "calls": calls,
        "totals": total,
        **core.per_groups(by),
        "known_sdk_defects": KNOWN_SDK_DEFECTS.get(sdk, []),
    }
    if extra:
        out.update(extra)
    return out

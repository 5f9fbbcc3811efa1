"""The part of truth.json every suite builds the same way (stdlib only).

Each suite's truth module turns its provider's usage (as sent on the wire) into
normalized counts and builds its own per-call records; this module sums those
counts: totals and the per_<dim> groups (calls, calls_with_usage and the token
keys), with the trace groups' trace_ids / scenario / session_id / user_id.
"""

# normalized usage keys: the OpenAI-only suite (llm) and the suites with cache writes
OPENAI_KEYS = ["input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "total_tokens"]
KEYS = [
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
]

# group name -> the call field it groups by
SCENARIO = ("scenario", "scenario")
TRACE = ("trace", "trace_name")
SESSION = ("session", "session_id")
USER = ("user", "user_id")
MODEL = ("model", "model")  # the returned model only
MODEL_OR_REQUESTED = ("model", ("model", "requested_model"))  # returned model, else the requested one


def zero(keys=KEYS):
    return {k: 0 for k in keys} | {"calls": 0, "calls_with_usage": 0}


def add(acc, u, keys=KEYS):
    acc["calls"] += 1
    if u is not None:
        acc["calls_with_usage"] += 1
        for k in keys:
            acc[k] += u[k]


def traceparent_part(tp, i):
    """Part i of a W3C traceparent (1: trace id, 2: span id), None if there is none."""
    parts = (tp or "").split("-")
    return parts[i] if len(parts) == 4 else None


def trace_id_of(tp):
    return traceparent_part(tp, 1)


def span_id_of(tp):
    return traceparent_part(tp, 2)


def call_identity(e, trace_id):
    """The first fields of every per-call record: which request, scenario, trace, session and user."""
    return {
        "request_no": e["request_no"],
        "scenario": e.get("scenario"),
        "trace_name": e.get("trace_name"),
        "trace_id": trace_id,
        "session_id": e.get("session_id"),
        "user_id": e.get("user_id"),
    }


def ledger_fields(e, names):
    """The ledger entry's values of names, in that order (None when absent)."""
    return {k: e.get(k) for k in names}


def openai_usage(u):
    """OpenAI usage as sent (chat completions or Responses) -> OPENAI_KEYS counts: input includes
    cached, output includes reasoning, total_tokens as sent."""
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


def with_cache_writes(n, total=None):
    """OpenAI's normalized counts (OPENAI_KEYS) in the KEYS shape: OpenAI reports no cache writes."""
    if n is None:
        return None
    return {
        "input_tokens": n["input_tokens"],
        "cached_input_tokens": n["cached_input_tokens"],
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": n["output_tokens"],
        "reasoning_tokens": n["reasoning_tokens"],
        "total_tokens": n["total_tokens"] if total is None else total,
    }


def _key(call, field):
    if isinstance(field, tuple):
        for f in field:
            if call[f]:
                return call[f]
        return call[field[-1]]
    return call[field]


def summarize(calls, groups, keys=KEYS, trace_fields=("scenario", "session_id", "user_id")):
    """(totals, {group: {key: sums}}) over calls (each with "usage" and "trace_id").

    groups: (group, call field) pairs such as SCENARIO, TRACE, ...; a call whose field is
    None is in no group of that kind. A "trace" group also lists its trace_ids and takes
    trace_fields from its (last) call.
    """
    by = {g: {} for g, _ in groups}
    total = zero(keys)
    for call in calls:
        u = call["usage"]
        add(total, u, keys)
        for g, field in groups:
            key = _key(call, field)
            if key is None:
                continue
            acc = by[g].setdefault(key, zero(keys))
            add(acc, u, keys)
            if g == "trace":
                acc.setdefault("trace_ids", [])
                tid = call["trace_id"]
                if tid and tid not in acc["trace_ids"]:
                    acc["trace_ids"].append(tid)
                for f in trace_fields:
                    acc[f] = call[f]
    return total, by


def per_groups(by):
    """{"per_<group>": sums} in the order of the groups."""
    return {"per_" + g: v for g, v in by.items()}

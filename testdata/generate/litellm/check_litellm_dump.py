#!/usr/bin/env python3
"""Check a LiteLLM dump span by span against truth.json (diagnostic; needs opentelemetry-proto).

Each call's input count is distinct, so a span carrying gen_ai.usage.input_tokens
(or a raw provider usage dict) identifies its ledger call. For every LiteLLM span
this prints: which call, whether it sits in the app's trace, the counts LiteLLM
recorded (flat keys and metadata.usage_object) against the ledger, and the
gen_ai.cost.* values against the ledger usage priced with LiteLLM's own price list.

  python check_litellm_dump.py [DUMP_DIR] [TRUTH_JSON] [--write-defects]

--write-defects rewrites truth.json's "known_sdk_defects" from what it finds.
"""
import ast
import json
import os
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
args = [a for a in sys.argv[1:] if not a.startswith("--")]
dump = args[0] if args else os.path.join(ROOT, "testdata", "llm", "litellm")
truth_p = args[1] if len(args) > 1 else os.path.join(ROOT, "testdata", "expected", "llm", "litellm", "truth.json")
truth = json.load(open(truth_p))


def val(v):
    k = v.WhichOneof("value")
    return getattr(v, k) if k else None


def spans():
    for f in sorted(os.listdir(dump)):
        if not f.startswith("traces-"):
            continue
        m = ExportTraceServiceRequest()
        m.ParseFromString(open(os.path.join(dump, f), "rb").read())
        for rs in m.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    yield f, ss.scope.name, sp, {a.key: val(a.value) for a in sp.attributes}


def pydict(s):
    try:
        return ast.literal_eval(s) if isinstance(s, str) and s.startswith("{") else None
    except (ValueError, SyntaxError):
        return None


calls = truth["calls"]
by_input = {c["usage"]["input_tokens"]: c for c in calls if c["usage"]}
by_raw_input = {}
for c in calls:
    u = c["usage_as_sent"]
    if u:
        by_raw_input[u.get("prompt_tokens", u.get("input_tokens"))] = c
defects = []
seen = {}


def defect(c, field, ledger, recorded, why):
    d = {"request_no": c["request_no"], "field": field, "ledger": ledger, "recorded": recorded, "why": why}
    if d not in defects:
        defects.append(d)


all_spans = list(spans())
by_id = {sp.span_id.hex(): sp for _, _, sp, _ in all_spans}
for f, scope, sp, a in all_spans:
    if scope != "litellm":
        continue
    tid = sp.trace_id.hex()
    parent = sp.parent_span_id.hex()
    if sp.name == "litellm_request":
        call = by_input.get(a.get("gen_ai.usage.input_tokens"))
        if call is None:  # error span: match by trace id
            call = next((c for c in calls if c["trace_id"] == tid and c["usage"] is None), None)
        if call is None:
            print("%s %s %s: matches no ledger call" % (f, sp.name, sp.span_id.hex()))
            continue
        seen.setdefault(call["request_no"], []).append(sp.name)
        u = call["usage"] or {}
        intrace = tid == call["trace_id"]
        print("req %2d %-26s %-9s %-15s trace %s parent %s" % (
            call["request_no"], call["scenario"], call["provider"], sp.name, "OK" if intrace else "WRONG (own root trace)",
            parent or "-"))
        if not intrace:
            defect(call, "trace_id", call["trace_id"], tid,
                   "streamed call: the sync stream wrapper (litellm_core_utils/streaming_handler.py, "
                   "CustomStreamWrapper.__next__) submits its success logging to the thread pool WITHOUT "
                   "contextvars.copy_context() (the non-stream path in utils.py does copy it), so LiteLLM sees no "
                   "current span and its litellm_request (with the raw_gen_ai_request child) becomes the root of a "
                   "new trace, away from the app's root span (and its session.id)")
        if u:
            rec = {"gen_ai.usage.input_tokens": a.get("gen_ai.usage.input_tokens"),
                   "gen_ai.usage.output_tokens": a.get("gen_ai.usage.output_tokens"),
                   "gen_ai.usage.total_tokens": a.get("gen_ai.usage.total_tokens")}
            want = {"gen_ai.usage.input_tokens": u["input_tokens"], "gen_ai.usage.output_tokens": u["output_tokens"],
                    "gen_ai.usage.total_tokens": u["total_tokens"]}
            for k in rec:
                if rec[k] != want[k]:
                    defect(call, k, want[k], rec[k], "flat usage differs from the wire")
            uo = pydict(a.get("metadata.usage_object")) or {}
            pd = uo.get("prompt_tokens_details") or {}
            cd = uo.get("completion_tokens_details") or {}
            got = {
                "cached": pd.get("cached_tokens") or 0,
                "write": pd.get("cache_creation_tokens") or uo.get("cache_creation_input_tokens") or 0,
                "write_1h": (pd.get("cache_creation_token_details") or {}).get("ephemeral_1h_input_tokens") or 0,
                "reasoning": cd.get("reasoning_tokens") or 0,
            }
            exp = {"cached": u["cached_input_tokens"], "write": u["cache_write_tokens"],
                   "write_1h": u["cache_write_1h_tokens"], "reasoning": u["reasoning_tokens"]}
            print("       usage in=%s out=%s | usage_object cached=%s write=%s write_1h=%s reasoning=%s  %s" % (
                rec["gen_ai.usage.input_tokens"], rec["gen_ai.usage.output_tokens"], got["cached"], got["write"],
                got["write_1h"], got["reasoning"], "OK" if got == exp else "LEDGER %s" % exp))
            ec = call.get("expected_cost") or {}
            costs = {k[len("gen_ai.cost."):]: v for k, v in a.items() if k.startswith("gen_ai.cost.")}
            t_ok = abs((costs.get("total_cost") or 0) - ec.get("total_cost", 0)) < 1e-9
            i_ok = abs((costs.get("input_cost") or 0) - ec.get("input_side_cost", 0)) < 1e-9
            o_ok = abs((costs.get("output_cost") or 0) - ec.get("output_cost", 0)) < 1e-9
            print("       cost total=%s input=%s output=%s cache_read=%s cache_creation=%s reasoning=%s | price list: "
                  "total=%s input=%s output=%s -> %s" % (
                      costs.get("total_cost"), costs.get("input_cost"), costs.get("output_cost"),
                      costs.get("cache_read_cost"), costs.get("cache_creation_cost"), costs.get("reasoning_cost"),
                      ec.get("total_cost"), ec.get("input_side_cost"), ec.get("output_cost"),
                      "OK" if (t_ok and i_ok and o_ok) else "DIFFERS"))
        print("       model req=%s resp=%s provider.model=%s system=%s | ledger model=%s" % (
            a.get("gen_ai.request.model"), a.get("gen_ai.response.model"), a.get("litellm.provider.model"),
            a.get("gen_ai.system"), call["model"]))
        if call["model"] and a.get("gen_ai.response.model") != call["model"]:
            if a.get("litellm.model_group"):
                why = ("proxy: gen_ai.response.model is the router's model_group (litellm.model_group=%r, "
                       "integrations/otel/routing.py routed_model_name), not the model the server returned"
                       % a.get("litellm.model_group"))
            else:
                why = ("streamed call: LiteLLM records the requested model name, not the model the server returned "
                       "(litellm.provider.model loses its provider prefix too: %r)" % a.get("litellm.provider.model"))
            defect(call, "gen_ai.response.model", call["model"], a.get("gen_ai.response.model"), why)
        uid = a.get("metadata.user_api_key_user_id")
        if call["user_id"] and uid and uid != call["user_id"]:
            defect(call, "metadata.user_api_key_user_id", call["user_id"], uid,
                   "proxy: the key's owner (the master key -> 'default_user_id') replaces the client's "
                   "metadata.user_api_key_user_id; the client's `user` is in llm.user and "
                   "metadata.user_api_key_end_user_id=%r" % a.get("metadata.user_api_key_end_user_id"))
        print("       user metadata.user_api_key_user_id=%r end_user_id=%r llm.user=%r | ledger user=%r session=%r "
              "(requester_metadata has session_id: %s)" % (
                  a.get("metadata.user_api_key_user_id"), a.get("metadata.user_api_key_end_user_id"), a.get("llm.user"),
                  call["user_id"], call["session_id"],
                  "'session_id': %r" % call["session_id"] in (a.get("metadata.requester_metadata") or "")))
    elif sp.name == "raw_gen_ai_request":
        raw = None
        for k, v in a.items():
            if k.startswith("llm.") and k.endswith(".usage"):
                raw = (k, pydict(v))
        p = by_id.get(parent)
        pin = dict((kv.key, val(kv.value)) for kv in p.attributes).get("gen_ai.usage.input_tokens") if p else None
        call = by_input.get(pin)
        rn = call["request_no"] if call else "?"
        if raw and raw[1]:
            rc = by_raw_input.get(raw[1].get("prompt_tokens", raw[1].get("input_tokens")))
            same = rc is not None and raw[1] == {k: v for k, v in rc["usage_as_sent"].items()}
            print("req %2s raw_gen_ai_request %s = provider usage (%s as sent)" % (
                rn, raw[0], "exactly" if same else "NOT exactly"))
        else:
            print("req %2s raw_gen_ai_request: no usage attribute (%d attributes)" % (rn, len(a)))
for c in calls:
    if c["request_no"] not in seen:
        print("req %2d %s: no litellm_request span" % (c["request_no"], c["scenario"]))
if "--write-defects" in sys.argv:
    truth["known_sdk_defects"] = defects
    with open(truth_p, "w") as fh:
        json.dump(truth, fh, indent=2)
        fh.write("\n")
    print("wrote %d known_sdk_defects to %s" % (len(defects), truth_p))
else:
    print(json.dumps(defects, indent=1))

#!/usr/bin/env python3
"""Find where a dump records something other than what fake_gemini.py sent (needs opentelemetry-proto).

  python defects_gemini.py SDK [--write] [--dump DIR] [--truth FILE]

Every request has a distinct promptTokenCount (3000 + 23k), so the input count on
an LLM span names its ledger call. For each such span this compares the recorded
output / reasoning / total / cached counts with the ledger's normalized usage
(output INCLUDES thoughts; total = Google's totalTokenCount), checks that the
recorded output text holds the reply (and the thoughts, when they were returned),
and flags a response model recorded for a call that got no response.
--write stores the list as known_sdk_defects in testdata/expected/llm/SDK/truth.json
(run_gemini.py calls it after each run).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "llm"))
from inspect_dump import iter_spans  # noqa: E402  (../llm/inspect_dump.py)
KEYS = {
    "input_tokens": ["llm.token_count.prompt", "gen_ai.usage.input_tokens"],
    "output_tokens": ["llm.token_count.completion", "gen_ai.usage.output_tokens"],
    "reasoning_tokens": [
        "llm.token_count.completion_details.reasoning",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
    ],
    "total_tokens": ["llm.token_count.total", "gen_ai.usage.total_tokens"],
    "cached_input_tokens": ["llm.token_count.prompt_details.cache_read", "gen_ai.usage.cache_read.input_tokens"],
}
OUTPUT_TEXT_KEYS = ("gen_ai.output.messages", "llm.output_messages.")


def val(v):
    for k in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if k in v:
            return v[k]
    return json.dumps(v)


def spans(d):
    for _, scope, sp in iter_spans(d, ".pb"):
        yield scope.get("name"), sp


def find(attrs, field):
    for k in KEYS[field]:
        if k in attrs:
            return k, int(attrs[k])
    return None, None


def main():
    sdk = sys.argv[1]
    d = os.path.join(ROOT, "testdata", "llm", sdk)
    tpath = os.path.join(ROOT, "testdata", "expected", "llm", sdk, "truth.json")
    if "--dump" in sys.argv:
        d = sys.argv[sys.argv.index("--dump") + 1]
    if "--truth" in sys.argv:
        tpath = sys.argv[sys.argv.index("--truth") + 1]
    truth = json.load(open(tpath))
    by_input = {c["usage"]["input_tokens"]: c for c in truth["calls"] if c["usage"]}
    errors = [c for c in truth["calls"] if c["status"] != 200]
    out = []
    for scope, sp in spans(d):
        attrs = {a["key"]: val(a["value"]) for a in sp.get("attributes", [])}
        k_in, n_in = find(attrs, "input_tokens")
        if n_in is None:
            if sp.get("status", {}).get("code") == "STATUS_CODE_ERROR" and errors and "gen_ai.response.model" in attrs:
                c = errors[0]
                out.append({
                    "request_no": c["request_no"], "field": "gen_ai.response.model", "ledger": c["model"],
                    "recorded": attrs["gen_ai.response.model"],
                    "why": "HTTP %d, no response body with a modelVersion, yet the error span %r records a response "
                           "model (the requested one)" % (c["status"], sp["name"]),
                })
            continue
        c = by_input.get(n_in)
        if c is None:
            continue
        u = c["usage"]
        for field in ("output_tokens", "reasoning_tokens", "total_tokens", "cached_input_tokens"):
            key, n = find(attrs, field)
            want = u[field]
            if n is None and (want == 0 or field == "total_tokens"):
                continue  # an absent total is not a wrong one (OTel GenAI records none)
            if n != want:
                why = {
                    "output_tokens": "records Google's candidatesTokenCount only (%s); thoughtsTokenCount %s is not added, "
                    "though Google bills thoughts as output" % (u["output_tokens"] - u["reasoning_tokens"], u["reasoning_tokens"]),
                    "reasoning_tokens": "no reasoning/thoughts key at all: thoughtsTokenCount %s is dropped" % u["reasoning_tokens"],
                    "total_tokens": "total differs from Google's totalTokenCount",
                    "cached_input_tokens": "cached count differs from cachedContentTokenCount",
                }[field]
                if field == "output_tokens" and attrs.get(KEYS["total_tokens"][1]) is not None:
                    why += "; its gen_ai.usage.total_tokens (%s) is Google's total, so input + output != total" % attrs[KEYS["total_tokens"][1]]
                out.append({"request_no": c["request_no"], "field": key or "(no key for %s; looked for %s)" % (field, ", ".join(KEYS[field])), "ledger": want,
                            "recorded": n, "why": why + " (span %r, scope %s)" % (sp["name"], scope)})
        texts = " ".join(str(v) for k, v in attrs.items() if k.startswith(OUTPUT_TEXT_KEYS))
        if texts:
            if c.get("reply_text") and c["reply_text"] not in texts.replace('\\"', '"'):
                out.append({"request_no": c["request_no"], "field": "gen_ai.output.messages / llm.output_messages",
                            "ledger": c["reply_text"], "recorded": texts[:300],
                            "why": "the recorded output text is not the reply the server sent%s (span %r)"
                            % (" (streamed: only part of the chunks kept)" if c["stream"] else "", sp["name"])})
            if c.get("thought_text"):
                first = c["thought_text"].split("\n")[0]
                if first not in texts:
                    out.append({"request_no": c["request_no"], "field": "gen_ai.output.messages / llm.output_messages",
                                "ledger": c["thought_text"], "recorded": texts[:300],
                                "why": "the thought parts the server returned (includeThoughts) are not in the recorded "
                                "output (span %r)" % sp["name"]})
    out.sort(key=lambda e: (e["request_no"], e["field"]))
    print(json.dumps(out, indent=2))
    if "--write" in sys.argv:
        truth["known_sdk_defects"] = out
        with open(tpath, "w") as f:
            json.dump(truth, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

"""Writes a realistic OTLP/JSON-lines dump, as the Collector's file exporter does, for the
benchmark: batches of about 128 spans from interleaved traces, children exported before
their parents; each trace is an agent run (root AGENT span, LLM calls, tool calls) in
the OpenInference or the OpenTelemetry GenAI dialect, the message history growing and
repeated on every call; sessions and users shared across traces. Deterministic from the
seed. Also writes the expected token totals per session (from the generator, not from
the dump) beside the dump as DUMP.truth.json.

    python3 benches/generate.py OUT.jsonl --traces 20000 [--seed 7]
"""
import argparse
import json
import random

SYSTEM = "You are a helpful travel assistant. Answer briefly and use the tools when you need facts. " * 14


def hexid(rnd, n):
    return "%0*x" % (n * 2, rnd.getrandbits(n * 8))


def kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def trace_spans(rnd, t, start_ns):
    """The spans of one agent run, children first (the order exporters end them in)."""
    trace_id = hexid(rnd, 16)
    root_id = hexid(rnd, 8)
    session = "session-%d" % (t // 4)
    user = "user-%d" % (t % 97)
    dialect = "oi" if t % 2 == 0 else "genai"
    model = ["gpt-4o-mini", "gpt-4.1-mini", "claude-sonnet-4-5"][t % 3]
    history = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Plan a day in city %d." % t}]
    spans = []
    totals = [0, 0]
    clock = start_ns
    turns = 2 + t % 3
    for turn in range(turns):
        span_id = hexid(rnd, 8)
        inp = 200 + 40 * len(history) + rnd.randrange(50)
        out = 20 + rnd.randrange(80)
        totals[0] += inp
        totals[1] += out
        reply = "Step %d: I will check the weather and the museums." % turn
        if dialect == "oi":
            attrs = [kv("openinference.span.kind", "LLM"), kv("llm.model_name", model), kv("llm.provider", "openai"),
                     kv("llm.token_count.prompt", inp), kv("llm.token_count.completion", out),
                     kv("llm.token_count.total", inp + out), kv("session.id", session), kv("user.id", user)]
            for i, m in enumerate(history):
                attrs.append(kv("llm.input_messages.%d.message.role" % i, m["role"]))
                attrs.append(kv("llm.input_messages.%d.message.content" % i, m["content"]))
            attrs.append(kv("llm.output_messages.0.message.role", "assistant"))
            attrs.append(kv("llm.output_messages.0.message.content", reply))
            name, scope = "ChatCompletion", "openinference.instrumentation.openai"
        else:
            msgs = [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in history]
            attrs = [kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
                     kv("gen_ai.request.model", model), kv("gen_ai.response.model", model),
                     kv("gen_ai.usage.input_tokens", inp), kv("gen_ai.usage.output_tokens", out),
                     kv("session.id", session), kv("user.id", user),
                     kv("gen_ai.input.messages", json.dumps(msgs)),
                     kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": reply}]}]))]
            name, scope = "chat " + model, "opentelemetry.instrumentation.openai_v2"
        dur = 400_000_000 + rnd.randrange(900_000_000)
        spans.append((scope, {"traceId": trace_id, "spanId": span_id, "parentSpanId": root_id, "name": name, "kind": 3,
                              "startTimeUnixNano": str(clock), "endTimeUnixNano": str(clock + dur), "attributes": attrs, "status": {}}))
        clock += dur
        tool_id = hexid(rnd, 8)
        spans.append(("app.tools", {"traceId": trace_id, "spanId": tool_id, "parentSpanId": root_id, "name": "get_weather", "kind": 1,
                                    "startTimeUnixNano": str(clock), "endTimeUnixNano": str(clock + 5_000_000),
                                    "attributes": [kv("openinference.span.kind", "TOOL"), kv("tool.name", "get_weather"),
                                                   kv("input.value", '{"city": "city %d"}' % t), kv("output.value", "sunny")],
                                    "status": {}}))
        clock += 5_000_000
        history = history + [{"role": "assistant", "content": reply}, {"role": "user", "content": "sunny, 21C. Continue."}]
    spans.append(("app", {"traceId": trace_id, "spanId": root_id, "name": "agent.run", "kind": 1,
                          "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(clock),
                          "attributes": [kv("openinference.span.kind", "AGENT"), kv("session.id", session), kv("user.id", user)],
                          "status": {}}))
    return spans, session, totals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--traces", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    truth = {}
    pending = []
    written = 0
    t0 = 1_760_000_000_000_000_000
    with open(a.out, "w") as f:
        def flush(batch):
            by_scope = {}
            for scope, s in batch:
                by_scope.setdefault(scope, []).append(s)
            req = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "travel-agent")]},
                                      "scopeSpans": [{"scope": {"name": sc}, "spans": sp} for sc, sp in by_scope.items()]}]}
            f.write(json.dumps(req, separators=(",", ":")) + "\n")
        # Traces run concurrently: spans of several are interleaved in each batch.
        active = []
        for t in range(a.traces):
            spans, session, totals = trace_spans(rnd, t, t0 + t * 1_000_000_000)
            s = truth.setdefault(session, [0, 0])
            s[0] += totals[0]
            s[1] += totals[1]
            active.append(spans)
            if len(active) >= 8 or t == a.traces - 1:
                while any(active):
                    for sp in active:
                        if sp:
                            pending.append(sp.pop(0))
                    while len(pending) >= 128:
                        flush(pending[:128])
                        pending = pending[128:]
                        written += 1
                active = []
        if pending:
            flush(pending)
    with open(a.out + ".truth.json", "w") as f:
        json.dump({s: {"input_tokens": v[0], "output_tokens": v[1]} for s, v in truth.items()}, f)


if __name__ == "__main__":
    main()

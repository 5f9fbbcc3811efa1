"""The "app": scenarios calling the fake OpenAI / Anthropic servers through litellm.completion().

Each scenario runs under its own root span (the app's tracer, taken from the global
TracerProvider that LiteLLM's "otel" callback set up). Session and user are passed
the ways LiteLLM documents them:
  metadata={"session_id": ..., "user_api_key_user_id": ..., "trace_name": ...},
  litellm_session_id=...,  user=...   (OpenAI's `user` param; LiteLLM maps it to
  Anthropic's metadata.user_id)
and as `session.id` / `user.id` attributes on the app's root span.
Extra headers (X-Scenario, X-Trace-Name, X-Session-Id, X-User-Id,
X-App-Traceparent) go to the fake servers' ledgers, never to the telemetry.
"""
import contextlib
import json
import os
import sys

import litellm
import openai

sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402  (../common.py: the same X-* ledger headers as the other suites' Harness)

OA_MODEL = "openai/gpt-4o-mini"
AN_MODEL = "anthropic/claude-sonnet-4-5"

USER_A = "user-alice"
USER_B = "user-bob"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

# long enough to be "cacheable" in spirit; the fake decides the usage anyway
POLICY = "You are the travel desk of Example Corp. " + " ".join(
    "Policy clause %d: economy class for flights under six hours, hotels under 180 EUR a night." % i for i in range(40)
)


def get_weather(city, unit="celsius"):
    return json.dumps({"city": city, "temperature": 18, "unit": unit, "sky": "sunny"})


class App:
    def __init__(self, tracer, openai_base, anthropic_base):
        self.tracer = tracer
        self.openai_base = openai_base
        self.anthropic_base = anthropic_base

    @contextlib.contextmanager
    def trace(self, name, session_id, user_id):
        with self.tracer.start_as_current_span(name, attributes=common.session_user_attrs(session_id, user_id)):
            yield

    headers = common.Harness.headers

    def call(self, scenario, trace_name, session_id, user_id, model, messages, **kw):
        md = {"trace_name": trace_name}
        if session_id:
            md["session_id"] = session_id
        if user_id:
            md["user_api_key_user_id"] = user_id
        extra = {}
        if session_id:
            extra["litellm_session_id"] = session_id
        if user_id:
            extra["user"] = user_id
        base = self.anthropic_base if model.startswith("anthropic/") else self.openai_base
        return litellm.completion(
            model=model,
            messages=messages,
            api_base=base,
            api_key="sk-ant-fake" if model.startswith("anthropic/") else "sk-fake",
            metadata=md,
            extra_headers=self.headers(scenario, trace_name, session_id, user_id),
            num_retries=0,
            max_retries=0,
            **extra,
            **kw,
        )


def s01_basic_chat(app):
    sc = "01_basic_chat"
    with app.trace(sc, None, None):
        app.call(sc, sc, None, None, OA_MODEL, [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say hello in French."},
        ])


def s02_conversation(app):
    sc, sess = "02_conversation", "sess-02-conversation"
    with app.trace(sc, sess, USER_A):
        messages = [{"role": "system", "content": "You are a terse travel agent."}]
        for q in ["I want to visit Lisbon.", "What should I eat there?", "And how many days do I need?"]:
            messages.append({"role": "user", "content": q})
            r = app.call(sc, sc, sess, USER_A, OA_MODEL, messages)
            messages.append({"role": "assistant", "content": r.choices[0].message.content})


def s03_stream_usage(app):
    sc, sess = "03_stream_with_usage", "sess-03-stream"
    with app.trace(sc, sess, USER_A):
        stream = app.call(sc, sc, sess, USER_A, OA_MODEL, [{"role": "user", "content": "Count to five, streaming."}],
                          stream=True, stream_options={"include_usage": True})
        text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
        assert text, "empty stream"


def s04_cached_tokens(app):
    # fake_openai.py sends cached_tokens=256 on every request k with k % 3 == 0: this is request 6
    sc, sess = "04_cached_prompt", "sess-04-cache"
    with app.trace(sc, sess, USER_B):
        app.call(sc, sc, sess, USER_B, OA_MODEL, [
            {"role": "system", "content": POLICY},
            {"role": "user", "content": "Can I book a 200 EUR hotel?"},
        ])


def s05_tool_calling(app):
    sc, sess = "05_tool_calling", "sess-05-tools"
    with app.trace(sc, sess, USER_A):
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        r1 = app.call(sc, sc, sess, USER_A, OA_MODEL, messages, tools=[WEATHER_TOOL])
        msg = r1.choices[0].message
        assert msg.tool_calls, "expected a tool call"
        messages.append({
            "role": "assistant",
            "content": msg.content,
            "tool_calls": [
                {"id": tc.id, "type": "function", "function": {"name": tc.function.name, "arguments": tc.function.arguments}}
                for tc in msg.tool_calls
            ],
        })
        for tc in msg.tool_calls:
            messages.append({"role": "tool", "tool_call_id": tc.id, "content": get_weather(**json.loads(tc.function.arguments))})
        r2 = app.call(sc, sc, sess, USER_A, OA_MODEL, messages, tools=[WEATHER_TOOL])
        assert r2.choices[0].message.content


def s06_anthropic_prompt_cache(app):
    """Two Anthropic calls with cache_control breakpoints: a 1h one on the system
    prompt and a 5m one on the first user turn. The first call writes both (a 1h
    and a 5m write), the second reads that prefix and writes a new 5m segment
    (its own breakpoint on the new user turn)."""
    sc, sess = "06_anthropic_prompt_cache", "sess-06-anthropic-cache"
    with app.trace(sc, sess, USER_B):
        system = {"role": "system", "content": [
            {"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ]}
        first = {"role": "user", "content": [
            {"type": "text", "text": "Here is my itinerary: Lisbon, Porto, Faro, ten days in May.",
             "cache_control": {"type": "ephemeral"}},
        ]}
        r1 = app.call(sc, sc, sess, USER_B, AN_MODEL, [system, first, ], max_tokens=512)
        msgs = [system, first, {"role": "assistant", "content": r1.choices[0].message.content},
                {"role": "user", "content": [{"type": "text", "text": "Which hotel budget applies in Porto?",
                                              "cache_control": {"type": "ephemeral"}}]}]
        app.call(sc, sc, sess, USER_B, AN_MODEL, msgs, max_tokens=512)


def s07_anthropic_thinking(app):
    sc, sess = "07_anthropic_thinking", "sess-07-anthropic-thinking"
    with app.trace(sc, sess, USER_A):
        app.call(sc, sc, sess, USER_A, AN_MODEL,
                 [{"role": "user", "content": "Is 1001 a prime? Think first."}],
                 max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048})


def s09_anthropic_stream(app):
    sc, sess = "09_anthropic_stream", "sess-09-anthropic-stream"
    with app.trace(sc, sess, USER_A):
        stream = app.call(sc, sc, sess, USER_A, AN_MODEL, [{"role": "user", "content": "Count to five, streaming."}],
                          max_tokens=256, stream=True, stream_options={"include_usage": True})
        text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
        assert text, "empty stream"


def s08_api_error(app):
    sc, sess = "08_api_error", "sess-08-error"
    with app.trace(sc, sess, USER_B):
        try:
            app.call(sc, sc, sess, USER_B, OA_MODEL, [{"role": "user", "content": "Please TRIGGER_ERROR now."}])
        except openai.BadRequestError:  # litellm.exceptions.BadRequestError subclasses it
            pass
        else:
            raise AssertionError("expected HTTP 400")


ALL = [s01_basic_chat, s02_conversation, s03_stream_usage, s04_cached_tokens, s05_tool_calling,
       s06_anthropic_prompt_cache, s07_anthropic_thinking, s08_api_error,
       s09_anthropic_stream]

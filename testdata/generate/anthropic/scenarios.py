"""The "app": scenarios calling the fake Anthropic server with the `anthropic` client.

A driver (run.py) gives each scenario a Harness with
  h.client                        an anthropic.Anthropic client (base_url = fake server)
  h.trace(name, session, user)    a context manager opening one trace the way the SDK
                                  under test documents it (root span, session, user);
                                  it may also yield a per-trace client (h.client_for)
  h.headers(scenario, trace, session, user)
                                  extra HTTP headers for the ledger (X-Scenario,
                                  X-Trace-Name, X-Session-Id, X-User-Id, X-App-Traceparent)
The ledger of the fake server (not the exported spans) is the ground truth.
"""

SONNET = "claude-sonnet-4-5"
HAIKU = "claude-haiku-4-5"
OPUS = "claude-opus-4-5"

USER_A = "user-alice"
USER_B = "user-bob"

# A "long" reusable prefix (the fake server does not count characters; it is only a breakpoint).
POLICY = (
    "You are the support assistant of Fake Airlines. Policy: be polite, cite the fare rules, "
    "never promise refunds outside the rules. Fare rules: Basic fares are non-refundable; "
    "Flex fares can be changed for free up to 24 hours before departure; "
    "Business fares are fully refundable."
)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}


def get_weather(city, unit="celsius"):
    return '{"city": "%s", "temperature": 18, "unit": "%s", "sky": "sunny"}' % (city, unit)


def s01_basic_message(h):
    sc = "01_basic_message"
    with h.trace(sc, None, None) as c:
        c.messages.create(
            model=SONNET,
            max_tokens=256,
            system="You are a helpful assistant.",
            messages=[{"role": "user", "content": "Say hello in French."}],
            extra_headers=h.headers(sc, sc, None, None),
        )


def s02_conversation(h):
    sc, sess = "02_conversation", "sess-02-conversation"
    with h.trace(sc, sess, USER_A) as c:
        messages = []
        for q in ["I want to visit Lisbon.", "What should I eat there?", "And how many days do I need?"]:
            messages.append({"role": "user", "content": q})
            r = c.messages.create(
                model=HAIKU,
                max_tokens=256,
                system="You are a terse travel agent.",
                messages=messages,
                extra_headers=h.headers(sc, sc, sess, USER_A),
            )
            messages.append({"role": "assistant", "content": r.content[0].text})


def s03_stream(h):
    sc, sess = "03_stream", "sess-03-stream"
    with h.trace(sc, sess, USER_A) as c:
        stream = c.messages.create(
            model=SONNET,
            max_tokens=256,
            messages=[{"role": "user", "content": "Count from one to five."}],
            stream=True,
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        text = []
        for ev in stream:
            if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                text.append(ev.delta.text)


def s04_cache_5m(h):
    """Two calls with the same system prefix and a 5-minute breakpoint: a write, then a read."""
    sc, sess = "04_cache_5m", "sess-04-cache"
    with h.trace(sc, sess, USER_B) as c:
        system = [{"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral", "ttl": "5m"}}]
        for q in ["Can I change a Basic fare?", "Can I change a Flex fare?"]:
            c.messages.create(
                model=SONNET,
                max_tokens=256,
                system=system,
                messages=[{"role": "user", "content": q}],
                extra_headers=h.headers(sc, sc, sess, USER_B),
            )


def s05_cache_1h(h):
    """A 1-hour breakpoint written, then (streamed) read back plus a new 5-minute breakpoint written."""
    sc, sess = "05_cache_1h", "sess-04-cache"
    with h.trace(sc, sess, USER_B) as c:
        system = [
            {"type": "text", "text": POLICY + " (1h copy)", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ]
        first = [{"role": "user", "content": "Is a Business fare refundable?"}]
        r = c.messages.create(
            model=OPUS,
            max_tokens=256,
            system=system,
            messages=first,
            extra_headers=h.headers(sc, sc, sess, USER_B),
        )
        second = first + [
            {"role": "assistant", "content": r.content[0].text},
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "And a Flex fare, one day before departure?",
                        "cache_control": {"type": "ephemeral", "ttl": "5m"},
                    }
                ],
            },
        ]
        with c.messages.stream(
            model=OPUS,
            max_tokens=256,
            system=system,
            messages=second,
            extra_headers=h.headers(sc, sc, sess, USER_B),
        ) as s:
            for _ in s.text_stream:
                pass
            s.get_final_message()


def s06_tool_use(h):
    sc, sess = "06_tool_use", "sess-06-tools"
    with h.trace(sc, sess, USER_A) as c:
        messages = [{"role": "user", "content": "What's the weather in Paris?"}]
        r = c.messages.create(
            model=SONNET,
            max_tokens=512,
            tools=[WEATHER_TOOL],
            messages=messages,
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        assert r.stop_reason == "tool_use", r.stop_reason
        tu = [b for b in r.content if b.type == "tool_use"][0]
        messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]})
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tu.id, "content": get_weather(**tu.input)}],
            }
        )
        c.messages.create(
            model=SONNET,
            max_tokens=512,
            tools=[WEATHER_TOOL],
            messages=messages,
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )


def s07_thinking(h):
    sc, sess = "07_thinking", "sess-07-thinking"
    with h.trace(sc, sess, USER_A) as c:
        c.messages.create(
            model=SONNET,
            max_tokens=4096,
            thinking={"type": "enabled", "budget_tokens": 2048},
            messages=[{"role": "user", "content": "Is 1001 a prime number?"}],
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )


def s08_thinking_stream(h):
    sc, sess = "08_thinking_stream", "sess-07-thinking"
    with h.trace(sc, sess, USER_A) as c:
        with c.messages.stream(
            model=OPUS,
            max_tokens=4096,
            thinking={"type": "enabled", "budget_tokens": 2048},
            messages=[{"role": "user", "content": "Is 1009 a prime number?"}],
            extra_headers=h.headers(sc, sc, sess, USER_A),
        ) as s:
            for _ in s:
                pass
            s.get_final_message()


def s09_api_error(h):
    sc, sess = "09_api_error", "sess-09-error"
    import anthropic

    with h.trace(sc, sess, USER_A) as c:
        try:
            c.messages.create(
                model=HAIKU,
                max_tokens=256,
                messages=[{"role": "user", "content": "Please TRIGGER_ERROR now."}],
                extra_headers=h.headers(sc, sc, sess, USER_A),
            )
        except anthropic.BadRequestError:
            pass


ALL = [
    s01_basic_message,
    s02_conversation,
    s03_stream,
    s04_cache_5m,
    s05_cache_1h,
    s06_tool_use,
    s07_thinking,
    s08_thinking_stream,
    s09_api_error,
]

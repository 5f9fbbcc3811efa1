"""The "app": 11 scenarios calling the fake OpenAI server with the `openai` client.

A driver (run.py) gives each scenario a Harness with
  h.client                        an openai.OpenAI client (base_url = fake server)
  h.trace(name, session, user)    a context manager opening one trace the way
                                  the SDK under test documents it (root span,
                                  session and user attributes)
  h.headers(scenario, trace, session, user)
                                  extra HTTP headers for the ledger (X-Scenario,
                                  X-Trace-Name, X-Session-Id, X-User-Id and
                                  X-App-Traceparent = the app's current OTel
                                  span context, to map calls to trace ids)
The ledger of the fake server (not the exported spans) is the ground truth.
"""
import json

import openai

CHAT_MODEL = "gpt-4o-mini"
RESP_MODEL = "gpt-4.1-mini"

# 1x1 transparent PNG
TINY_PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

WEATHER_TOOL_CHAT = {
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
WEATHER_TOOL_RESP = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": WEATHER_TOOL_CHAT["function"]["parameters"],
}


def get_weather(city, unit="celsius"):
    return json.dumps({"city": city, "temperature": 18, "unit": unit, "sky": "sunny"})


USER_A = "user-alice"
USER_B = "user-bob"


def s01_basic_chat(h):
    sc = "01_basic_chat"
    with h.trace(sc, None, None):
        h.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Say hello in French."},
            ],
            extra_headers=h.headers(sc, sc, None, None),
        )


def s02_conversation(h):
    sc, sess = "02_conversation", "sess-02-conversation"
    with h.trace(sc, sess, USER_A):
        messages = [{"role": "system", "content": "You are a terse travel agent."}]
        for q in ["I want to visit Lisbon.", "What should I eat there?", "And how many days do I need?"]:
            messages.append({"role": "user", "content": q})
            r = h.client.chat.completions.create(
                model=CHAT_MODEL, messages=messages, extra_headers=h.headers(sc, sc, sess, USER_A)
            )
            messages.append({"role": "assistant", "content": r.choices[0].message.content})


def s03_shared_session(h):
    sc, sess = "03_shared_session", "sess-03-shared"
    for part, q in [("03_shared_session_a", "First visit: what is 2+2?"), ("03_shared_session_b", "Second visit: what is 3+3?")]:
        with h.trace(part, sess, USER_B):
            h.client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": q}],
                extra_headers=h.headers(sc, part, sess, USER_B),
            )


def s04_stream_usage(h):
    sc, sess = "04_stream_with_usage", "sess-04-stream"
    with h.trace(sc, sess, USER_A):
        stream = h.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "Count to five, streaming."}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
        assert text, "empty stream"


def s05_stream_no_usage(h):
    sc, sess = "05_stream_without_usage", "sess-05-stream"
    with h.trace(sc, sess, USER_A):
        stream = h.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "Count to three, streaming."}],
            stream=True,
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
        assert text, "empty stream"


def s06_tool_calling(h):
    sc, sess = "06_tool_calling", "sess-06-tools"
    with h.trace(sc, sess, USER_A):
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        r1 = h.client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL_CHAT], extra_headers=h.headers(sc, sc, sess, USER_A)
        )
        msg = r1.choices[0].message
        assert msg.tool_calls, "expected a tool call"
        messages.append(
            {
                "role": "assistant",
                "content": msg.content,
                "tool_calls": [
                    {"id": tc.id, "type": "function", "function": {"name": tc.function.name, "arguments": tc.function.arguments}}
                    for tc in msg.tool_calls
                ],
            }
        )
        for tc in msg.tool_calls:
            args = json.loads(tc.function.arguments)
            messages.append({"role": "tool", "tool_call_id": tc.id, "content": get_weather(**args)})
        r2 = h.client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL_CHAT], extra_headers=h.headers(sc, sc, sess, USER_A)
        )
        assert r2.choices[0].message.content


def s07_image_input(h):
    sc, sess = "07_image_input", "sess-07-image"
    with h.trace(sc, sess, USER_A):
        h.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this image?"},
                        {"type": "image_url", "image_url": {"url": TINY_PNG}},
                    ],
                }
            ],
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )


def s08_responses_basic(h):
    sc, sess = "08_responses_basic", "sess-08-responses"
    with h.trace(sc, sess, USER_A):
        r = h.client.responses.create(
            model=RESP_MODEL,
            instructions="You are a poet.",
            input="Write a haiku about tokens.",
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        assert r.output_text


def s09_responses_tools(h):
    sc, sess = "09_responses_previous_id_tools", "sess-09-responses-tools"
    with h.trace(sc, sess, USER_A):
        hd = lambda: h.headers(sc, sc, sess, USER_A)  # noqa: E731
        r1 = h.client.responses.create(model=RESP_MODEL, input="Remember: my city is Paris.", extra_headers=hd())
        r2 = h.client.responses.create(
            model=RESP_MODEL,
            previous_response_id=r1.id,
            input="What is the weather in my city?",
            tools=[WEATHER_TOOL_RESP],
            extra_headers=hd(),
        )
        calls = [o for o in r2.output if o.type == "function_call"]
        assert calls, "expected a function_call"
        outputs = [
            {"type": "function_call_output", "call_id": c.call_id, "output": get_weather(**json.loads(c.arguments))}
            for c in calls
        ]
        r3 = h.client.responses.create(
            model=RESP_MODEL, previous_response_id=r2.id, input=outputs, tools=[WEATHER_TOOL_RESP], extra_headers=hd()
        )
        assert r3.output_text


def s10_structured_output(h):
    sc, sess = "10_structured_output", "sess-10-structured"
    with h.trace(sc, sess, USER_A):
        r = h.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "Give me the weather in Paris as JSON."}],
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "weather",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "temperature_c": {"type": "number"}},
                        "required": ["city", "temperature_c"],
                        "additionalProperties": False,
                    },
                },
            },
            extra_headers=h.headers(sc, sc, sess, USER_A),
        )
        json.loads(r.choices[0].message.content)


def s11_api_error(h):
    sc, sess = "11_api_error", "sess-11-error"
    with h.trace(sc, sess, USER_A):
        try:
            h.client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Please TRIGGER_ERROR now."}],
                extra_headers=h.headers(sc, sc, sess, USER_A),
            )
        except openai.BadRequestError:
            pass
        else:
            raise AssertionError("expected HTTP 400")


ALL = [
    s01_basic_chat,
    s02_conversation,
    s03_shared_session,
    s04_stream_usage,
    s05_stream_no_usage,
    s06_tool_calling,
    s07_image_input,
    s08_responses_basic,
    s09_responses_tools,
    s10_structured_output,
    s11_api_error,
]
BY_NAME = {f.__name__.split("_", 1)[1]: f for f in ALL}

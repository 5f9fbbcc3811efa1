"""The "app": 8 scenarios calling the fake Gemini API with the real `google-genai` SDK.

run_gemini.py gives each scenario a Harness with
  h.client                          genai.Client(api_key="fake", http_options=HttpOptions(base_url=...))
  h.trace(name, session, user)      a context manager opening one trace the way the
                                    SDK under test documents it (root span, session, user)
  h.headers(scenario, trace, session, user)
                                    ledger headers (X-Scenario, X-Trace-Name, X-Session-Id,
                                    X-User-Id, X-App-Traceparent = the app's current OTel
                                    span context); sent per call through
                                    GenerateContentConfig(http_options=HttpOptions(headers=...))
The ledger of the fake server (not the exported spans) is the ground truth.
"""
from google.genai import errors, types

LITE = "gemini-2.5-flash-lite"  # no thinking unless a budget is given
FLASH = "gemini-2.5-flash"  # thinks by default
PRO = "gemini-2.5-pro"  # thinks by default

USER_A = "user-alice"
USER_B = "user-bob"

WEATHER_FN = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters_json_schema={
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
)


def get_weather(city, unit="celsius"):
    return {"city": city, "temperature": 18, "unit": unit, "sky": "sunny"}


def cfg(headers, **kw):
    return types.GenerateContentConfig(http_options=types.HttpOptions(headers=headers), **kw)


def s01_basic_generate(h):
    sc = "01_basic_generate"
    with h.trace(sc, None, None):
        r = h.client.models.generate_content(
            model=LITE,
            contents="Say hello in French.",
            config=cfg(h.headers(sc, sc, None, None), system_instruction="You are a helpful assistant."),
        )
        assert r.text


def s02_chat(h):
    # 3 turns in one chat session; FLASH thinks (thoughtsTokenCount sent, no thought parts);
    # turn 3 has >= 5 contents: an implicit cache hit (cachedContentTokenCount 1024).
    sc, sess = "02_chat_3_turns", "sess-02-chat"
    with h.trace(sc, sess, USER_A):
        chat = h.client.chats.create(model=FLASH, config=types.GenerateContentConfig(system_instruction="You are a terse travel agent."))
        for q in ["I want to visit Lisbon.", "What should I eat there?", "And how many days do I need?"]:
            r = chat.send_message(
                q, config=cfg(h.headers(sc, sc, sess, USER_A), system_instruction="You are a terse travel agent.")
            )
            assert r.text
        assert len(chat.get_history()) == 6


def s03_stream(h):
    sc, sess = "03_stream", "sess-03-stream"
    with h.trace(sc, sess, USER_B):
        text = ""
        for chunk in h.client.models.generate_content_stream(
            model=LITE, contents="Count to five, streaming.", config=cfg(h.headers(sc, sc, sess, USER_B))
        ):
            text += chunk.text or ""
        assert text


def s04_thinking(h):
    sc, sess = "04_thinking", "sess-04-thinking"
    with h.trace(sc, sess, USER_A):
        r = h.client.models.generate_content(
            model=PRO,
            contents="Why is the sky blue? One sentence.",
            config=cfg(
                h.headers(sc, sc, sess, USER_A),
                thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
            ),
        )
        parts = r.candidates[0].content.parts
        assert any(p.thought for p in parts) and r.text


def s05_thinking_stream(h):
    sc, sess = "05_thinking_stream", "sess-05-thinking-stream"
    with h.trace(sc, sess, USER_A):
        thoughts, text = "", ""
        for chunk in h.client.models.generate_content_stream(
            model=FLASH,
            contents="Explain tokens to a child, briefly.",
            config=cfg(h.headers(sc, sc, sess, USER_A), thinking_config=types.ThinkingConfig(include_thoughts=True)),
        ):
            for p in chunk.candidates[0].content.parts or []:
                if p.thought:
                    thoughts += p.text or ""
                else:
                    text += p.text or ""
        assert thoughts and text


def s06_cached_content(h):
    # caches.create (POST /v1beta/cachedContents, not a model call: truth.json other_requests),
    # then a generate call naming it: cachedContentTokenCount 2048, included in promptTokenCount.
    # thinking_budget=0: FLASH does not think here.
    sc, sess = "06_cached_content", "sess-06-cache"
    with h.trace(sc, sess, USER_B):
        cache = h.client.caches.create(
            model=FLASH,
            config=types.CreateCachedContentConfig(
                display_name="handbook",
                system_instruction="You answer questions about the attached handbook.",
                contents=[types.Content(role="user", parts=[types.Part(text="HANDBOOK " * 400)])],
                ttl="3600s",
                http_options=types.HttpOptions(headers=h.headers(sc, sc, sess, USER_B)),
            ),
        )
        r = h.client.models.generate_content(
            model=FLASH,
            contents="What does the handbook say about holidays?",
            config=cfg(
                h.headers(sc, sc, sess, USER_B),
                cached_content=cache.name,
                thinking_config=types.ThinkingConfig(thinking_budget=0),
            ),
        )
        assert r.text


def s07_function_calling(h):
    # ask -> functionCall -> functionResponse -> answer (manual; no automatic function calling)
    sc, sess = "07_function_calling", "sess-07-tools"
    with h.trace(sc, sess, USER_A):
        tools = [types.Tool(function_declarations=[WEATHER_FN])]
        contents = [types.Content(role="user", parts=[types.Part(text="What is the weather in Paris?")])]
        r1 = h.client.models.generate_content(
            model=FLASH, contents=contents, config=cfg(h.headers(sc, sc, sess, USER_A), tools=tools)
        )
        assert r1.function_calls, "expected a function call"
        contents.append(r1.candidates[0].content)
        for fc in r1.function_calls:
            contents.append(
                types.Content(
                    role="user",
                    parts=[types.Part.from_function_response(name=fc.name, response=get_weather(**fc.args))],
                )
            )
        r2 = h.client.models.generate_content(
            model=FLASH, contents=contents, config=cfg(h.headers(sc, sc, sess, USER_A), tools=tools)
        )
        assert r2.text


def s08_api_error(h):
    sc, sess = "08_api_error", "sess-08-error"
    with h.trace(sc, sess, USER_A):
        try:
            h.client.models.generate_content(
                model=FLASH, contents="Please TRIGGER_ERROR now.", config=cfg(h.headers(sc, sc, sess, USER_A))
            )
        except errors.ClientError as e:
            assert e.code == 400
        else:
            raise AssertionError("expected HTTP 400")


ALL = [
    s01_basic_generate,
    s02_chat,
    s03_stream,
    s04_thinking,
    s05_thinking_stream,
    s06_cached_content,
    s07_function_calling,
    s08_api_error,
]

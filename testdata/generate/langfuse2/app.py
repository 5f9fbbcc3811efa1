"""The "app": six scenarios traced with the Langfuse Python SDK 2.x (run.py drives it).

Every scenario is its own Langfuse trace with its own name. The OpenAI client talks
to the fake server (fake_openai_assistants.py); each request carries extra headers
for the fake server's ledger: X-Scenario, X-Trace-Name, X-Session-Id, X-User-Id,
X-App-Call (a tag of the app's own) and X-App-Trace-Id (the Langfuse trace id, when
the app knows it before the call). After each call the app records (App.calls) the
tag -> the Langfuse trace id (and the generation id where the app can see it).

The manual generations of scenario f make no request; the app records the numbers
it passed (App.manual), which truth_langfuse2.py adds to the truth as calls with
endpoint "manual".

Scenario ids (fixed, so that the truth is the same on every run): see TRACE_IDS.
Only scenario d lets the SDK pick the trace id (a random uuid4).
"""
import os
import time
import tracemalloc

import openai as plain_openai
from langfuse.decorators import langfuse_context, observe
from langfuse.openai import openai  # the documented drop-in import (patches openai's chat/completions classes)

CHAT_MODEL = "gpt-4o-mini"
TRACE_IDS = {
    "a": "0a8f3c52-7d1e-4b6a-9c2f-5e4d3b2a1c01",  # UUID
    "b": "1b9e4d63-8e2f-4c7b-8d3a-6f5e4c3b2d02",  # UUID
    "c": "2c0f5e74-9f3a-4d8c-9e4b-7a6f5d4c3e03",  # UUID
    "e": "4e2b7a96b15c4fae8a6d9c8b7f6e5a05",  # 32 lowercase hex, no dashes
    "f": "5f3c8ba7-c26d-40bf-9b7e-ad9c8b7a6f06",  # UUID
    "f_custom": "checkout-run-42",  # not hex at all
}
USER_ALICE, USER_BOB, USER_CAROL = "user-alice", "user-bob", "user-carol"
PAUSE = 0.35  # > flush_interval: what was created before a pause is sent before its update


class App:
    def __init__(self, base_url):
        self.base_url = base_url
        # langfuse.openai's wrapper patches the classes, so any client is traced; this one is
        # built from the patched module, as the docs show.
        self.client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
        self.calls = []  # {"app_call", "scenario", "langfuse_trace_id", "langfuse_observation_id"}
        self.manual = []  # manual generations: what was passed
        self.n = 0

    def headers(self, scenario, trace_name, session_id, user_id, trace_id=None):
        self.n += 1
        tag = "%s#%d" % (scenario, self.n)
        h = {"X-Scenario": scenario, "X-Trace-Name": trace_name, "X-App-Call": tag}
        if session_id:
            h["X-Session-Id"] = session_id
        if user_id:
            h["X-User-Id"] = user_id
        if trace_id:
            h["X-App-Trace-Id"] = trace_id
        return tag, h

    def record(self, tag, scenario, trace_id, observation_id=None):
        self.calls.append({"app_call": tag, "scenario": scenario, "langfuse_trace_id": trace_id,
                           "langfuse_observation_id": observation_id})

    def record_manual(self, scenario, trace_name, trace_id, session_id, user_id, gen_name, generation, model,
                      usage=None, usage_details=None):
        """A manual generation: the numbers exactly as passed to the SDK (usage= / usage_details=)."""
        self.manual.append({
            "scenario": scenario, "trace_name": trace_name, "langfuse_trace_id": trace_id,
            "session_id": session_id, "user_id": user_id, "generation_name": gen_name,
            "langfuse_observation_id": generation.id, "model": model,
            "usage": usage, "usage_details": usage_details,
        })


# ------------------------------------------------------------------------- a


def a_openai_conversation(app, lf):
    """langfuse.openai chat, 3 turns in one trace: the trace is created by id and name with the
    low-level client, the calls join it through the wrapper's trace_id / session_id / user_id kwargs."""
    sc, name, sess, tid = "a_openai_conversation", "lf2_a_conversation", "sess-a-conversation", TRACE_IDS["a"]
    lf.trace(id=tid, name=name)
    messages = [{"role": "system", "content": "You are a terse travel agent."}]
    for turn, q in enumerate(["I want to visit Lisbon.", "What should I eat there?", "And how many days do I need?"]):
        messages.append({"role": "user", "content": q})
        tag, h = app.headers(sc, name, sess, USER_ALICE, tid)
        r = app.client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, name="travel-turn-%d" % (turn + 1),
            trace_id=tid, session_id=sess, user_id=USER_ALICE, metadata={"turn": turn + 1},
            extra_headers=h,
        )
        app.record(tag, sc, tid)
        messages.append({"role": "assistant", "content": r.choices[0].message.content})


# ------------------------------------------------------------------------- b


def b_observe_nesting(app, lf):
    sc, name, sess = "b_observe_nesting", "lf2_b_observe_nesting", "sess-b-observe"

    @observe()
    def retrieve_context(question):
        time.sleep(PAUSE)
        return ["Lisbon has seven hills.", "Trams climb most of them."]

    @observe()
    def summarize(docs, question):
        tid = langfuse_context.get_current_trace_id()
        tag, h = app.headers(sc, name, sess, USER_BOB, tid)
        r = app.client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "system", "content": "Answer from the context: " + " ".join(docs)},
                      {"role": "user", "content": question}],
            temperature=0.3,
            extra_headers=h,
        )
        app.record(tag, sc, tid)
        time.sleep(PAUSE)
        return r.choices[0].message.content

    @observe(name=name)
    def answer_question(question):
        langfuse_context.update_current_trace(session_id=sess, user_id=USER_BOB, tags=["observe"])
        docs = retrieve_context(question)
        return summarize(docs, question)

    answer_question("How hilly is Lisbon?", langfuse_observation_id=TRACE_IDS["b"])


# ------------------------------------------------------------------------- c


def c_assistants_cookbook(app, lf):
    """The cookbook "Observability for OpenAI Assistants API" (Langfuse SDK 2.x, decorators):
    the Assistants API is not instrumented by langfuse.openai, so each step is an @observe
    function, the run an @observe(as_type="generation") one that sets model and usage itself."""
    sc, name, sess = "c_assistants_cookbook", "lf2_c_assistants", "sess-c-assistants"
    client = plain_openai.OpenAI(base_url=app.base_url, api_key="sk-fake", max_retries=0)

    def hdr():
        return app.headers(sc, name, sess, USER_ALICE, langfuse_context.get_current_trace_id())

    @observe()
    def create_assistant():
        assistant = client.beta.assistants.create(
            name="Math Tutor",
            instructions="You are a personal math tutor. Answer questions briefly, in a sentence or less.",
            model=CHAT_MODEL,
            extra_headers=hdr()[1],
        )
        langfuse_context.update_current_observation(
            input={"name": assistant.name, "instructions": assistant.instructions, "model": assistant.model}
        )
        return assistant

    @observe()
    def create_thread():
        return client.beta.threads.create(extra_headers=hdr()[1])

    @observe()
    def add_message_to_thread(thread_id, content):
        role = "user"
        message = client.beta.threads.messages.create(thread_id=thread_id, role=role, content=content,
                                                      extra_headers=hdr()[1])
        langfuse_context.update_current_observation(input={"thread_id": thread_id, "role": role, "content": content})
        return message

    @observe(as_type="generation")
    def get_response(thread_id, assistant_id):
        assistant = client.beta.assistants.retrieve(assistant_id, extra_headers=hdr()[1])
        run = client.beta.threads.runs.create(thread_id=thread_id, assistant_id=assistant.id, extra_headers=hdr()[1])
        while True:
            tag, h = hdr()
            run = client.beta.threads.runs.retrieve(thread_id=thread_id, run_id=run.id, extra_headers=h)
            if run.status == "completed":
                app.record(tag, sc, langfuse_context.get_current_trace_id(),
                           langfuse_context.get_current_observation_id())
                break
            time.sleep(0.2)
        messages = client.beta.threads.messages.list(thread_id=thread_id, extra_headers=hdr()[1])
        assistant_response = messages.data[0].content[0].text.value
        run_log = client.beta.threads.runs.retrieve(thread_id=thread_id, run_id=run.id, extra_headers=hdr()[1])
        input_messages = [{"role": m.role, "content": m.content[0].text.value} for m in messages.data[::-1][:-1]]
        langfuse_context.update_current_observation(
            model=run_log.model,
            usage=run_log.usage,  # the openai Run.usage object, as the cookbook passes it
            input=input_messages,
            output=assistant_response,
        )
        return assistant_response, run

    @observe(name=name)
    def run_math_tutor(user_input):
        langfuse_context.update_current_trace(session_id=sess, user_id=USER_ALICE)
        assistant = create_assistant()
        thread = create_thread()
        add_message_to_thread(thread.id, user_input)
        time.sleep(PAUSE)
        response_text, run = get_response(thread.id, assistant.id)
        return response_text

    run_math_tutor("I need to solve the equation `3x + 11 = 14`. Can you help me?",
                   langfuse_observation_id=TRACE_IDS["c"])


# ------------------------------------------------------------------------- d


def d_stream(app, lf):
    """A streamed langfuse.openai call outside any trace: the wrapper creates the trace itself
    (random uuid4 id, named after the generation). langfuse 2.x does not add stream_options, so
    the app asks for usage itself."""
    sc, name = "d_stream", "lf2_d_stream"
    tag, h = app.headers(sc, name, None, USER_BOB)
    stream = app.client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Count from one to five."}],
        stream=True,
        stream_options={"include_usage": True},
        name=name,
        user_id=USER_BOB,
        extra_headers=h,
    )
    text = "".join((c.choices[0].delta.content or "") for c in stream if c.choices)
    gen = stream.generation  # LangfuseResponseGeneratorSync keeps the generation it opened
    app.record(tag, sc, gen.trace_id, gen.id)
    return text


# ------------------------------------------------------------------------- e


def e_error(app, lf):
    sc, name, sess = "e_error", "lf2_e_error", "sess-e-error"

    @observe()
    def call_model():
        tid = langfuse_context.get_current_trace_id()
        tag, h = app.headers(sc, name, sess, USER_ALICE, tid)
        try:
            return app.client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Please TRIGGER_ERROR now."}],
                extra_headers=h,
            )
        finally:
            app.record(tag, sc, tid)

    @observe(name=name)
    def handle_request():
        langfuse_context.update_current_trace(session_id=sess, user_id=USER_ALICE)
        try:
            call_model()
        except openai.BadRequestError as ex:
            return {"error": ex.code}

    handle_request(langfuse_observation_id=TRACE_IDS["e"])


# ------------------------------------------------------------------------- f


def f_low_level(app, lf):
    sc, name, sess, tid = "f_low_level", "lf2_f_manual", "sess-f-manual", TRACE_IDS["f"]

    def rec(gen_name, gen, model, trace_name=name, trace_id=tid, **u):
        app.record_manual(sc, trace_name, trace_id, sess, USER_CAROL, gen_name, gen, model, **u)

    trace = lf.trace(
        id=tid, name=name, session_id=sess, user_id=USER_CAROL, tags=["manual", "low-level"],
        metadata={"tier": "gold", "attempt": 1}, release="2025.01.2", version="v7",
        input={"order": "A-1001"},
    )
    span = trace.span(name="pipeline", input={"order": "A-1001"}, metadata={"step": "draft"})
    u1 = {"input": 1234, "output": 87, "unit": "TOKENS"}
    g1 = span.generation(name="draft-answer", model="gpt-4o-mini", model_parameters={"temperature": 0.2},
                         input=[{"role": "user", "content": "Draft a reply for order A-1001."}], usage=u1)
    rec("draft-answer", g1, "gpt-4o-mini", usage=u1)
    time.sleep(PAUSE)
    g1.end(output="Your order A-1001 ships tomorrow.")
    trace.event(name="cache-lookup", input={"key": "order:A-1001"}, output={"hit": False}, level="DEBUG",
                metadata={"store": "redis"})
    u2 = {"promptTokens": 911, "completionTokens": 123, "totalTokens": 1034}
    g2 = trace.generation(name="legacy-usage", model="gpt-3.5-turbo", input="Classify: shipping question",
                          output="shipping", usage=u2)
    rec("legacy-usage", g2, "gpt-3.5-turbo", usage=u2)
    g2.end()
    u3 = {"input": 402, "output": 61, "cache_read_input_tokens": 128}
    g3 = span.generation(name="cached-usage-details", model="claude-3-5-sonnet-20241022",
                         input=[{"role": "user", "content": "Polish the draft."}])
    time.sleep(PAUSE)
    g3.end(output="Your order A-1001 ships tomorrow, in the morning.", usage_details=u3)
    rec("cached-usage-details", g3, "claude-3-5-sonnet-20241022", usage_details=u3)
    u4 = {"input": 1543, "output": 377, "unit": "CHARACTERS"}
    g4 = trace.generation(name="translate-characters", model="translate-chars-v1",
                          input="Your order A-1001 ships tomorrow, in the morning.",
                          output="A sua encomenda A-1001 segue amanhã, de manhã.", usage=u4)
    rec("translate-characters", g4, "translate-chars-v1", usage=u4)
    g4.end()
    span.end(output={"status": "drafted"})
    trace.update(output={"reply": "Your order A-1001 ships tomorrow, in the morning."})
    trace.score(name="quality", value=0.87, comment="reviewed by hand")

    # a trace whose id is neither a UUID nor hex; its creation also emits one sdk-log event
    # (the SDK's memory report, on only while PYTHONTRACEMALLOC and the report interval are set)
    name2, tid2 = "lf2_f_custom_id", TRACE_IDS["f_custom"]
    tracemalloc.start()
    os.environ.update(PYTHONTRACEMALLOC="1", LANGFUSE_DEBUG_MEMORY_REPORT_INTERVAL="1",
                      LANGFUSE_DEBUG_MEMORY_TOP_K="1")
    try:
        trace2 = lf.trace(id=tid2, name=name2, session_id=sess, user_id=USER_CAROL, tags=["manual"])
    finally:
        for k in ("PYTHONTRACEMALLOC", "LANGFUSE_DEBUG_MEMORY_REPORT_INTERVAL", "LANGFUSE_DEBUG_MEMORY_TOP_K"):
            os.environ.pop(k, None)
        tracemalloc.stop()
    u5 = {"input": 777, "output": 45}
    g5 = trace2.generation(name="checkout-summary", model="gpt-4o-mini", input="Summarize checkout run 42",
                           usage_details=u5)
    rec("checkout-summary", g5, "gpt-4o-mini", trace_name=name2, trace_id=tid2, usage_details=u5)
    time.sleep(PAUSE)
    g5.end(output="Checkout run 42: 3 items, paid.")


ALL = [a_openai_conversation, b_observe_nesting, c_assistants_cookbook, d_stream, e_error, f_low_level]

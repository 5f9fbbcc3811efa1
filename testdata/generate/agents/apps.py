"""The "apps" of the agents suite: an OpenAI Agents SDK agent and a LangGraph ReAct graph.

Both talk to testdata/generate/llm/fake_openai.py. The ledger headers (X-Scenario,
X-Trace-Name, X-Session-Id, X-User-Id, X-App-Traceparent) are added to every HTTP
request made by an `openai` client (the frameworks build their own clients) by
`install_ledger_headers()`, which wraps the client's `_prepare_request` hook. The
X-App-Traceparent is the OTel span current when the request is sent (the
instrumentation's own LLM span when it makes it current; for LangChain, whose
OpenInference tracer makes no span current, the span of the enclosing LangChain run from
openinference.instrumentation.langchain.get_current_span()), so truth.json maps each
call to the trace id it was made in.

Scenarios (run.py picks them by sdk):
  agents_*  : one Agent "weather-agent" with one function tool `get_weather`,
              3 runs (Runner.run) in one conversation: RunConfig(group_id=SESSION,
              trace_metadata={"session_id", "user_id"}); the OpenInference setup also
              wraps each run in using_attributes(session_id, user_id).
              run 1 `agents_01_responses`  default Responses model (gpt-4.1-mini)
              run 2 `agents_02_chat`       OpenAIChatCompletionsModel (gpt-4o-mini)
              run 3 `agents_03_responses`  default Responses model again
              each: model -> get_weather tool call -> tool -> model -> answer (2 calls)
  langgraph : StateGraph(MessagesState) agent node (ChatOpenAI.bind_tools) + ToolNode,
              loop until no tool call, MemorySaver checkpointer, 2 user turns
              (2 graph.invoke) in thread SESSION with user USER.
"""
import contextlib
import contextvars
import json

LEDGER = contextvars.ContextVar("ledger_headers", default=None)

AGENTS_SESSION = "sess-agents-01"
AGENTS_USER = "user-alice"
LANGGRAPH_SESSION = "sess-langgraph-01"
LANGGRAPH_USER = "user-bob"
CHAT_MODEL = "gpt-4o-mini"
RESP_MODEL = "gpt-4.1-mini"


def _current_traceparent():
    try:
        from opentelemetry import trace as ot
    except ImportError:
        return None
    sc = ot.get_current_span().get_span_context()
    if not sc.is_valid:
        # OpenInference's LangChain tracer never makes its spans current (by design); its
        # get_current_span() finds the span of the LangChain run the code runs in (here the
        # graph node that calls the model), which is in the trace the call belongs to.
        try:
            from openinference.instrumentation.langchain import get_current_span
        except ImportError:
            return None
        sp = get_current_span()
        if sp is None:
            return None
        sc = sp.get_span_context()
        if not sc.is_valid:
            return None
    return "00-%032x-%016x-%02x" % (sc.trace_id, sc.span_id, int(sc.trace_flags))


def install_ledger_headers():
    """Add the ledger headers to every request of openai.OpenAI / openai.AsyncOpenAI."""
    import openai

    def headers():
        h = dict(LEDGER.get() or {})
        tp = _current_traceparent()
        if tp:
            h["X-App-Traceparent"] = tp
        return h

    def patch(cls, is_async):
        orig = cls._prepare_request
        if getattr(orig, "_ledger", False):
            return
        if is_async:

            async def _prepare_request(self, request):
                await orig(self, request)
                for k, v in headers().items():
                    request.headers[k] = v

        else:

            def _prepare_request(self, request):
                orig(self, request)
                for k, v in headers().items():
                    request.headers[k] = v

        _prepare_request._ledger = True
        cls._prepare_request = _prepare_request

    patch(openai.OpenAI, False)
    patch(openai.AsyncOpenAI, True)


@contextlib.contextmanager
def ledger(scenario, trace_name, session_id, user_id):
    h = {"X-Scenario": scenario, "X-Trace-Name": trace_name}
    if session_id:
        h["X-Session-Id"] = session_id
    if user_id:
        h["X-User-Id"] = user_id
    tok = LEDGER.set(h)
    try:
        yield
    finally:
        LEDGER.reset(tok)


def weather_json(city, unit):
    return json.dumps({"city": city, "temperature": 18, "unit": unit, "sky": "sunny"})


# ----------------------------------------------------------------------------- OpenAI Agents SDK
AGENT_RUNS = [
    ("agents_01_responses", "responses", "What is the weather in Paris?"),
    ("agents_02_chat", "chat", "And what should I wear there today?"),
    ("agents_03_responses", "responses", "Is it a good day for a picnic in Paris?"),
]


def run_agents(base_url, run_cm=None):
    """Run the Agents SDK app. run_cm(scenario, session, user) wraps each run (SDK-specific)."""
    import asyncio

    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        RunConfig,
        Runner,
        function_tool,
        set_default_openai_client,
    )
    from openai import AsyncOpenAI

    install_ledger_headers()
    client = AsyncOpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    # use_for_tracing=False: the SDK's own exporter to OpenAI is not used (processors replaced)
    set_default_openai_client(client, use_for_tracing=False)

    @function_tool
    def get_weather(city: str, unit: str) -> str:
        """Get the current weather for a city.

        Args:
            city: The city name.
            unit: "celsius" or "fahrenheit".
        """
        return weather_json(city, unit)

    instructions = "You are a helpful weather assistant. Use the get_weather tool."
    responses_agent = Agent(name="weather-agent", instructions=instructions, model=RESP_MODEL, tools=[get_weather])
    chat_agent = Agent(
        name="weather-agent",
        instructions=instructions,
        model=OpenAIChatCompletionsModel(model=CHAT_MODEL, openai_client=client),
        tools=[get_weather],
    )

    async def main():
        out = []
        for scenario, kind, question in AGENT_RUNS:
            agent = chat_agent if kind == "chat" else responses_agent
            cfg = RunConfig(
                workflow_name=scenario,
                group_id=AGENTS_SESSION,
                trace_metadata={"session_id": AGENTS_SESSION, "user_id": AGENTS_USER},
            )
            cm = run_cm(scenario, AGENTS_SESSION, AGENTS_USER) if run_cm else contextlib.nullcontext()
            with ledger(scenario, scenario, AGENTS_SESSION, AGENTS_USER), cm:
                r = await Runner.run(agent, question, run_config=cfg)
            out.append(r.final_output)
        return out

    return asyncio.run(main())


# ----------------------------------------------------------------------------- LangGraph
GRAPH_TURNS = [
    ("langgraph_01_turn", "What is the weather in Paris?"),
    ("langgraph_02_turn", "And in Lyon?"),
]


def run_langgraph(base_url, run_cm=None):
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.checkpoint.memory import MemorySaver
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode

    install_ledger_headers()

    @tool
    def get_weather(city: str, unit: str = "celsius") -> str:
        """Get the current weather for a city."""
        return weather_json(city, unit)

    tools = [get_weather]
    llm = ChatOpenAI(model=CHAT_MODEL, base_url=base_url, api_key="sk-fake", max_retries=0).bind_tools(tools)

    def call_model(state: MessagesState):
        return {"messages": [llm.invoke(state["messages"])]}

    def should_continue(state: MessagesState):
        last = state["messages"][-1]
        return "tools" if getattr(last, "tool_calls", None) else END

    g = StateGraph(MessagesState)
    g.add_node("agent", call_model)
    g.add_node("tools", ToolNode(tools))
    g.add_edge(START, "agent")
    g.add_conditional_edges("agent", should_continue, ["tools", END])
    g.add_edge("tools", "agent")
    app = g.compile(checkpointer=MemorySaver())

    out = []
    for scenario, question in GRAPH_TURNS:
        config = {
            "configurable": {"thread_id": LANGGRAPH_SESSION},
            "metadata": {"session_id": LANGGRAPH_SESSION, "user_id": LANGGRAPH_USER},
            "run_name": scenario,
        }
        cm = run_cm(scenario, LANGGRAPH_SESSION, LANGGRAPH_USER) if run_cm else contextlib.nullcontext()
        with ledger(scenario, scenario, LANGGRAPH_SESSION, LANGGRAPH_USER), cm:
            r = app.invoke({"messages": [HumanMessage(question)]}, config)
        out.append(r["messages"][-1].content)
    return out

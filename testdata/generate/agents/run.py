#!/usr/bin/env python3
"""Drive one agent framework + instrumentation through apps.py and capture its export.

  /tmp/llm-venvs/<sdk>/bin/python testdata/generate/agents/run.py --sdk <sdk> [--out DIR]

sdk (= venv name): agents-oi, agents-logfire, langgraph-oi. Output: testdata/llm/<sdk>/
(raw OTLP/HTTP bodies) and testdata/expected/llm/<sdk>/{index.json,truth.json}.
fake_openai.py and receiver.py (testdata/generate/llm/) run as child processes.
"""
import argparse
import contextlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LLM = os.path.abspath(os.path.join(HERE, "..", "llm"))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, LLM)
sys.path.insert(0, os.path.dirname(HERE))

import apps  # noqa: E402
import common  # noqa: E402  (../common.py)
import truth_agents  # noqa: E402

PACKAGES = {
    "agents-oi": ["openai-agents", "openai", "openinference-instrumentation-openai-agents",
                  "openinference-instrumentation", "openinference-semantic-conventions"],
    "agents-logfire": ["openai-agents", "openai", "logfire"],
    "langgraph-oi": ["langgraph", "langchain-openai", "langchain-core", "openai",
                     "openinference-instrumentation-langchain", "openinference-instrumentation",
                     "openinference-semantic-conventions"],
}
OTEL = ["opentelemetry-api", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"]


def oi_provider(name, otlp, seed):
    # The same provider as testdata/generate/llm/run.py (seeded ids, OTLP/HTTP protobuf).
    return common.otel_provider(name, otlp, seed)


def oi_run_cm():
    from openinference.instrumentation import using_attributes

    @contextlib.contextmanager
    def cm(scenario, session_id, user_id):
        with using_attributes(session_id=session_id, user_id=user_id):
            yield

    return cm


def do_agents_oi(base_url, otlp):
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    tp = oi_provider("agents-app-oi", otlp, 301)
    # exclusive_processor (default True): replaces the SDK's own exporter to OpenAI
    OpenAIAgentsInstrumentor().instrument(tracer_provider=tp)
    apps.run_agents(base_url, oi_run_cm())
    tp.force_flush()
    tp.shutdown()


def do_agents_logfire(base_url, otlp):
    from agents import set_trace_processors

    # no export to OpenAI's trace backend (the SDK's default processor); logfire wraps the
    # SDK's trace provider and makes its own OTel spans
    set_trace_processors([])
    logfire = common.logfire_configure("agents-app-logfire", otlp)
    logfire.instrument_openai_agents()
    apps.run_agents(base_url, None)
    logfire.force_flush()
    logfire.shutdown()


def do_langgraph_oi(base_url, otlp):
    from openinference.instrumentation.langchain import LangChainInstrumentor

    tp = oi_provider("langgraph-app-oi", otlp, 302)
    LangChainInstrumentor().instrument(tracer_provider=tp)
    apps.run_langgraph(base_url, oi_run_cm())
    tp.force_flush()
    tp.shutdown()


SETUPS = {"agents-oi": do_agents_oi, "agents-logfire": do_agents_logfire, "langgraph-oi": do_langgraph_oi}
SCENARIOS = {
    "agents-oi": [s for s, _, _ in apps.AGENT_RUNS],
    "agents-logfire": [s for s, _, _ in apps.AGENT_RUNS],
    "langgraph-oi": [s for s, _ in apps.GRAPH_TURNS],
}


def versions(sdk):
    return common.versions(PACKAGES[sdk] + OTEL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, choices=sorted(SETUPS))
    ap.add_argument("--out")
    ap.add_argument("--truth-out", help="folder for truth.json and index.json (default: testdata/expected/llm/<sdk>)")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", a.sdk))
    common.clear_dir(out, keep=())
    with common.children("agents-run-") as c:
        ledger = c.fake("srv", common.FAKE_OPENAI)
        c.receiver(out)
        base_url = c.url("srv", "/v1")
        otlp = c.url("rcv")
        SETUPS[a.sdk](base_url, otlp)
        time.sleep(1.0)
        led = common.load_ledger(ledger)
        expected = a.truth_out or os.path.join(TESTDATA, "expected", "llm", a.sdk)
        extra = {"versions": versions(a.sdk), "scenarios_run": SCENARIOS[a.sdk]}
        common.write_truth(expected, truth_agents.build(led, a.sdk, extra))
        common.move_index(out, expected)
        print("ledger:", ledger, file=sys.stderr)
    common.print_sizes(out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drive one agent framework + instrumentation through apps.py and capture its export.

  /tmp/llm-venvs/<sdk>/bin/python testdata/generate/agents/run.py --sdk <sdk> [--out DIR]

sdk (= venv name): agents-oi, agents-logfire, langgraph-oi. Output: testdata/llm/<sdk>/
(raw OTLP/HTTP bodies) and testdata/expected/llm/<sdk>/{index.json,truth.json}.
fake_openai.py and receiver.py (testdata/generate/llm/) run as child processes.
"""
import argparse
import contextlib
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LLM = os.path.abspath(os.path.join(HERE, "..", "llm"))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, LLM)

import apps  # noqa: E402
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


def wait_port_file(path, proc, timeout=20):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path):
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("child exited early")
        time.sleep(0.05)
    raise RuntimeError("timeout waiting for " + path)


def oi_provider(name, otlp, seed):
    # The same provider as testdata/generate/llm/run.py (seeded ids, OTLP/HTTP protobuf).
    import importlib.util

    spec = importlib.util.spec_from_file_location("llm_run", os.path.join(LLM, "run.py"))
    llm_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(llm_run)
    return llm_run.otel_provider(name, otlp, seed)


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
    import logfire
    from agents import set_trace_processors
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # no export to OpenAI's trace backend (the SDK's default processor); logfire wraps the
    # SDK's trace provider and makes its own OTel spans
    set_trace_processors([])
    logfire.configure(
        send_to_logfire=False,
        service_name="agents-app-logfire",
        service_version="1.0.0",
        environment="test",
        console=False,
        metrics=False,
        additional_span_processors=[BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces"))],
    )
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
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in PACKAGES[sdk] + OTEL:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, choices=sorted(SETUPS))
    ap.add_argument("--out")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", a.sdk))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        os.remove(f)
    tmp = tempfile.mkdtemp(prefix="agents-run-")
    ledger = os.path.join(tmp, "ledger.json")
    py = sys.executable
    srv = subprocess.Popen([py, os.path.join(LLM, "fake_openai.py"), "--ledger", ledger, "--port-file", tmp + "/srv.port"])
    rcv = subprocess.Popen([py, os.path.join(LLM, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
    try:
        base_url = "http://127.0.0.1:%d/v1" % wait_port_file(tmp + "/srv.port", srv)
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", rcv)
        SETUPS[a.sdk](base_url, otlp)
        time.sleep(1.0)
        led = json.load(open(ledger)) if os.path.exists(ledger) else []
        expected = os.path.join(TESTDATA, "expected", "llm", a.sdk)
        os.makedirs(expected, exist_ok=True)
        extra = {"versions": versions(a.sdk), "scenarios_run": SCENARIOS[a.sdk]}
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(truth_agents.build(led, a.sdk, extra), f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
        print("ledger:", ledger, file=sys.stderr)
    finally:
        srv.terminate()
        rcv.terminate()
        srv.wait()
        rcv.wait()
    for f in sorted(os.listdir(out)):
        print("%8d %s" % (os.path.getsize(os.path.join(out, f)), f), file=sys.stderr)


if __name__ == "__main__":
    main()

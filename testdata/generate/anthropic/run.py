#!/usr/bin/env python3
"""Drive one Anthropic instrumentation through scenarios.py and capture its export.

  /tmp/llm-venvs/<sdk>/bin/python run.py --sdk <sdk> [--out DIR] [--only a,b]

SDK names: anthropic-oi, anthropic-traceloop, anthropic-logfire, anthropic-otel-genai,
anthropic-sdk, anthropic-oi-plus-sdk (each in its own venv, see README.md).
Output (default testdata/llm/<sdk>/): the raw OTLP/HTTP bodies (traces-NNN.pb,
logs-NNN.pb); testdata/expected/llm/<sdk>/{index.json,truth.json}.

fake_anthropic.py (this folder) and ../llm/receiver.py run as child processes.

anthropic >= 2.x has its own OpenTelemetry tracing (scope com.anthropic.sdk.python),
ON by default whenever a tracer provider is registered. Every setup but the two
"-sdk" ones turns it off (client option open_telemetry=False) so that each dump holds
one instrumentation only.
"""
import argparse
import contextlib
import glob
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LLM = os.path.abspath(os.path.join(HERE, "..", "llm"))
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)

import truth  # noqa: E402  (this folder's truth.py)

_spec = importlib.util.spec_from_file_location("llm_run", os.path.join(LLM, "run.py"))
llm_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(llm_run)  # shared helpers: wait_port_file, SeededIds, Harness, resource, otel_provider

OTEL = ["opentelemetry-api", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http", "opentelemetry-proto"]
SDK_PACKAGES = {
    "anthropic-oi": ["anthropic", "openinference-instrumentation-anthropic", "openinference-instrumentation",
                     "openinference-semantic-conventions"] + OTEL,
    "anthropic-traceloop": ["anthropic", "opentelemetry-instrumentation-anthropic",
                            "opentelemetry-semantic-conventions-ai"] + OTEL,
    "anthropic-logfire": ["anthropic", "logfire", "logfire-sdk"] + OTEL,
    "anthropic-otel-genai": ["anthropic", "opentelemetry-instrumentation-genai-anthropic",
                             "opentelemetry-util-genai"] + OTEL,
    "anthropic-sdk": ["anthropic"] + OTEL,
    "anthropic-oi-plus-sdk": ["anthropic", "openinference-instrumentation-anthropic", "openinference-instrumentation",
                              "openinference-semantic-conventions"] + OTEL,
}


class Harness(llm_run.Harness):
    """h.trace(...) yields the client to use inside the trace (a per-trace copy for the SDK's conversation_id)."""


def client_of(base_url, sdk_tracing, tracer_provider=None):
    import anthropic

    if sdk_tracing:
        ot = {"traces": {"enabled": True}}
        if tracer_provider is not None:
            ot["tracer_provider"] = tracer_provider
    else:
        ot = False
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-fake", max_retries=0, open_telemetry=ot)


def with_conversation(client, session_id):
    """The SDK's documented way to link calls to a conversation: gen_ai.conversation.id."""
    if not session_id:
        return client
    return client.with_options(open_telemetry={**client.open_telemetry, "conversation_id": session_id})


def plain_root(tracer, client, sdk_conversation=False):
    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        attrs = {}
        if session_id:
            attrs["session.id"] = session_id
        if user_id:
            attrs["user.id"] = user_id
        with tracer.start_as_current_span(name, attributes=attrs):
            yield with_conversation(client, session_id) if sdk_conversation else client

    return cm


def oi_root(tracer, client, sdk_conversation=False):
    from openinference.instrumentation import using_attributes

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        kw = {}
        if session_id:
            kw["session_id"] = session_id
        if user_id:
            kw["user_id"] = user_id
        with tracer.start_as_current_span(name, attributes={"openinference.span.kind": "CHAIN"}):
            with using_attributes(**kw):
                yield with_conversation(client, session_id) if sdk_conversation else client

    return cm


def flush(tp):
    return lambda: (tp.force_flush(), tp.shutdown())


# --------------------------------------------------------------------------- setups -> (harness, shutdown)


def setup_oi(base_url, otlp, sdk):
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    both = sdk == "anthropic-oi-plus-sdk"
    tp = llm_run.otel_provider("llm-app-" + sdk, otlp, 101 if not both else 106)
    AnthropicInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=both)
    return Harness(client, oi_root(tracer, client, sdk_conversation=both)), flush(tp)


def setup_traceloop(base_url, otlp, sdk):
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    tp = llm_run.otel_provider("llm-app-" + sdk, otlp, 102)
    AnthropicInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=False)
    return Harness(client, plain_root(tracer, client)), flush(tp)


def setup_logfire(base_url, otlp, sdk):
    import logfire
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    logfire.configure(
        send_to_logfire=False,
        service_name="llm-app-" + sdk,
        service_version="1.0.0",
        environment="test",
        console=False,
        metrics=False,
        additional_span_processors=[BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces"))],
    )
    logfire.instrument_anthropic()
    client = client_of(base_url, sdk_tracing=False)

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        attrs = {}
        if session_id:
            attrs["session.id"] = session_id
        if user_id:
            attrs["user.id"] = user_id
        with logfire.span(name, _span_name=name, **attrs):
            yield client

    def shutdown():
        logfire.force_flush()
        logfire.shutdown()

    return Harness(client, cm), shutdown


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    from opentelemetry import _logs
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    tp = llm_run.otel_provider("llm-app-" + sdk, otlp, 104)
    lp = LoggerProvider(resource=llm_run.resource("llm-app-" + sdk))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=otlp + "/v1/logs")))
    _logs.set_logger_provider(lp)
    AnthropicInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=False)

    def shutdown():
        tp.force_flush()
        lp.force_flush()
        tp.shutdown()
        lp.shutdown()

    return Harness(client, plain_root(tracer, client)), shutdown


def setup_sdk(base_url, otlp, sdk):
    tp = llm_run.otel_provider("llm-app-" + sdk, otlp, 105)  # registered globally: the SDK's default provider
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=True)
    return Harness(client, plain_root(tracer, client, sdk_conversation=True)), flush(tp)


SETUPS = {
    "anthropic-oi": setup_oi,
    "anthropic-traceloop": setup_traceloop,
    "anthropic-logfire": setup_logfire,
    "anthropic-otel-genai": setup_otel_genai,
    "anthropic-sdk": setup_sdk,
    "anthropic-oi-plus-sdk": setup_oi,
}


def versions(sdk):
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in SDK_PACKAGES.get(sdk, []):
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
    ap.add_argument("--only", help="comma-separated scenario names (default: all)")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(REPO_TESTDATA, a.sdk))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        if os.path.basename(f) != "NOTES.md":
            os.remove(f)
    tmp = tempfile.mkdtemp(prefix="anthropic-run-")
    ledger = os.path.join(tmp, "ledger.json")
    py = sys.executable
    srv = subprocess.Popen([py, os.path.join(HERE, "fake_anthropic.py"), "--ledger", ledger,
                            "--port-file", tmp + "/srv.port"])
    rcv = subprocess.Popen([py, os.path.join(LLM, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
    try:
        base_url = "http://127.0.0.1:%d" % llm_run.wait_port_file(tmp + "/srv.port", srv)
        otlp = "http://127.0.0.1:%d" % llm_run.wait_port_file(tmp + "/rcv.port", rcv)
        sspec = importlib.util.spec_from_file_location("anthropic_scenarios", os.path.join(HERE, "scenarios.py"))
        scenarios = importlib.util.module_from_spec(sspec)
        sspec.loader.exec_module(scenarios)

        harness, shutdown = SETUPS[a.sdk](base_url, otlp, a.sdk)
        chosen = scenarios.ALL
        if a.only:
            names = a.only.split(",")
            chosen = [f for f in scenarios.ALL if any(n in f.__name__ for n in names)]
        for fn in chosen:
            print("scenario", fn.__name__, file=sys.stderr, flush=True)
            fn(harness)
        shutdown()
        time.sleep(1.0)
        led = json.load(open(ledger)) if os.path.exists(ledger) else []
        extra = {"versions": versions(a.sdk), "scenarios_run": [f.__name__ for f in chosen]}
        defects_file = os.path.join(HERE, "known_sdk_defects.json")
        defects = json.load(open(defects_file)).get(a.sdk, []) if os.path.exists(defects_file) else []
        expected = os.path.join(os.path.dirname(REPO_TESTDATA), "expected", "llm", a.sdk)
        if a.out:
            expected = out.rstrip("/") + "-expected"
        os.makedirs(expected, exist_ok=True)
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(truth.build(led, a.sdk, extra, defects), f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
    finally:
        srv.terminate()
        rcv.terminate()
        srv.wait()
        rcv.wait()
    for f in sorted(os.listdir(out)):
        p = os.path.join(out, f)
        if os.path.isfile(p):
            print("%8d %s" % (os.path.getsize(p), f), file=sys.stderr)


if __name__ == "__main__":
    main()

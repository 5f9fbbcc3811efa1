#!/usr/bin/env python3
"""Drive one instrumentation SDK through scenarios.py and capture its export.

  /tmp/llm-venvs/<sdk>/bin/python run.py --sdk <sdk> [--out DIR] [--only a,b]

SDK names: oi, otel-genai, openllmetry, langfuse, sideseat, catalyst, langfuse+oi
(run each in its own venv, see README.md). Output (default
testdata/llm/<sdk>/): the raw OTLP/HTTP bodies (traces-NNN.pb|json,
logs-NNN.pb), index.json (the receiver's log of the POSTs) and truth.json
(built from the fake server's ledger by truth.py).

fake_openai.py and receiver.py run as child processes (stdlib only).
"""
import argparse
import contextlib
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)

import truth  # noqa: E402

SDK_PACKAGES = {
    "oi": ["openai", "openinference-instrumentation-openai", "openinference-instrumentation", "opentelemetry-sdk",
           "opentelemetry-exporter-otlp-proto-http"],
    "otel-genai": ["openai", "opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai", "opentelemetry-sdk",
                   "opentelemetry-exporter-otlp-proto-http"],
    "openllmetry": ["openai", "opentelemetry-instrumentation-openai", "opentelemetry-sdk",
                    "opentelemetry-exporter-otlp-proto-http"],
    "langfuse": ["openai", "langfuse", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"],
    "sideseat": ["openai", "sideseat", "logfire", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"],
    "catalyst": ["openai", "inference-catalyst-tracing", "opentelemetry-sdk"],
    "langfuse+oi": ["openai", "langfuse", "openinference-instrumentation-openai", "opentelemetry-sdk",
                    "opentelemetry-exporter-otlp-proto-http"],
}


def wait_port_file(path, proc, timeout=20):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path):
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("child exited early")
        time.sleep(0.05)
    raise RuntimeError("timeout waiting for " + path)


class SeededIds:
    """Deterministic trace/span ids for the SDKs that take our TracerProvider."""

    def __init__(self, seed):
        from opentelemetry.sdk.trace.id_generator import IdGenerator

        rnd = random.Random(seed)

        class _G(IdGenerator):
            def generate_span_id(self):
                return rnd.getrandbits(64) or 1

            def generate_trace_id(self):
                return rnd.getrandbits(128) or 1

        self.gen = _G()


class Harness:
    def __init__(self, client, trace_cm):
        self.client = client
        self._trace_cm = trace_cm

    def trace(self, name, session_id, user_id):
        return self._trace_cm(name, session_id, user_id)

    def headers(self, scenario, trace_name, session_id, user_id):
        h = {"X-Scenario": scenario, "X-Trace-Name": trace_name}
        if session_id:
            h["X-Session-Id"] = session_id
        if user_id:
            h["X-User-Id"] = user_id
        try:
            from opentelemetry import trace as ot

            sc = ot.get_current_span().get_span_context()
            if sc.is_valid:
                h["X-App-Traceparent"] = "00-%032x-%016x-%02x" % (sc.trace_id, sc.span_id, int(sc.trace_flags))
        except ImportError:
            pass
        return h


def resource(name):
    from opentelemetry.sdk.resources import Resource

    return Resource.create(
        {
            "service.name": name,
            "service.version": "1.0.0",
            "deployment.environment": "test",
            "service.instance.id": name + "-test-1",
        }
    )


def otel_provider(name, endpoint, seed):
    from opentelemetry import trace as ot
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tp = TracerProvider(resource=resource(name), id_generator=SeededIds(seed).gen)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
    ot.set_tracer_provider(tp)
    return tp


def plain_root_span_cm(tracer, session_attrs=True, extra=None):
    """A user's own root span; session.id / user.id as plain attributes."""

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        attrs = dict(extra or {})
        if session_attrs and session_id:
            attrs["session.id"] = session_id
        if session_attrs and user_id:
            attrs["user.id"] = user_id
        with tracer.start_as_current_span(name, attributes=attrs):
            yield

    return cm


# --------------------------------------------------------------------------- SDK setups
# Each returns (harness, shutdown_fn).


def setup_oi(base_url, otlp, sdk):
    import openai
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai import OpenAIInstrumentor

    tp = otel_provider("llm-app-oi", otlp, 1)
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        kw = {}
        if session_id:
            kw["session_id"] = session_id
        if user_id:
            kw["user_id"] = user_id
        with tracer.start_as_current_span(name, attributes={"openinference.span.kind": "CHAIN"}):
            with using_attributes(**kw):
                yield

    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, cm), lambda: (tp.force_flush(), tp.shutdown())


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    import openai
    from opentelemetry import _logs
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    tp = otel_provider("llm-app-otel-genai", otlp, 2)
    lp = LoggerProvider(resource=resource("llm-app-otel-genai"))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=otlp + "/v1/logs")))
    _logs.set_logger_provider(lp)
    OpenAIInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)

    def shutdown():
        tp.force_flush()
        lp.force_flush()
        tp.shutdown()
        lp.shutdown()

    return Harness(client, plain_root_span_cm(tracer)), shutdown


def setup_openllmetry(base_url, otlp, sdk):
    import openai
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    tp = otel_provider("llm-app-openllmetry", otlp, 3)
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, plain_root_span_cm(tracer)), lambda: (tp.force_flush(), tp.shutdown())


def setup_langfuse(base_url, otlp, sdk):
    # Langfuse sends OTLP/HTTP protobuf to <base_url>/api/public/otel/v1/traces (gzip by default;
    # the receiver stores it decompressed).
    os.environ["LANGFUSE_PUBLIC_KEY"] = "pk-lf-00000000-test"
    os.environ["LANGFUSE_SECRET_KEY"] = "sk-lf-00000000-test"
    os.environ["LANGFUSE_BASE_URL"] = otlp
    os.environ["LANGFUSE_HOST"] = otlp
    os.environ["LANGFUSE_TRACING_ENVIRONMENT"] = "test"
    os.environ["LANGFUSE_RELEASE"] = "1.0.0"
    os.environ.setdefault("OTEL_SERVICE_NAME", "llm-app-" + sdk.replace("+", "-plus-"))
    from langfuse import get_client, propagate_attributes
    from langfuse.openai import openai as lf_openai  # the documented drop-in import

    langfuse = get_client()
    if sdk == "langfuse+oi":
        from openinference.instrumentation.openai import OpenAIInstrumentor
        from opentelemetry import trace as ot

        # Langfuse set up the global TracerProvider (it had none); OpenInference uses the same one.
        OpenAIInstrumentor().instrument(tracer_provider=ot.get_tracer_provider())

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        kw = {"trace_name": name}
        if session_id:
            kw["session_id"] = session_id
        if user_id:
            kw["user_id"] = user_id
        with langfuse.start_as_current_observation(as_type="span", name=name):
            with propagate_attributes(**kw):
                yield

    client = lf_openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)

    def shutdown():
        langfuse.flush()
        langfuse.shutdown()

    return Harness(client, cm), shutdown


def setup_sideseat(base_url, otlp, sdk):
    # SideSeat posts OTLP/HTTP protobuf to <endpoint>/otel/<project>/v1/traces; OpenAI calls are
    # instrumented through logfire.instrument_openai() (logfire.configure(send_to_logfire=False)).
    import openai
    from sideseat import Frameworks, SideSeat

    ss = SideSeat(
        endpoint=otlp,
        project_id="default",
        framework=Frameworks.OpenAI,
        service_name="llm-app-sideseat",
        service_version="1.0.0",
        enable_metrics=False,
    )

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        with ss.trace(name, user_id=user_id, session_id=session_id):
            yield

    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, cm), lambda: (ss.force_flush(), ss.shutdown())


def setup_catalyst(base_url, otlp, sdk):
    # catalyst_tracing.setup() builds its own OTLP/JSON exporter posting to <endpoint>/v1/traces
    # and installs its OpenAI instrumentation; agent_span() opens an AGENT root span carrying
    # session.id / user.id.
    from catalyst_tracing import agent_span, setup

    tracing = setup(
        endpoint=otlp,
        token="catalyst-test-token",
        service_name="llm-app-catalyst",
        service_version="1.0.0",
        environment="test",
    )
    import openai

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        with agent_span(
            tracing.tracer,
            agent_id="llm-testdata-agent",
            agent_name=name,
            session_id=session_id,
            user_id=user_id,
        ):
            yield

    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, cm), lambda: tracing.shutdown()


SETUPS = {
    "catalyst": setup_catalyst,
    "sideseat": setup_sideseat,
    "oi": setup_oi,
    "otel-genai": setup_otel_genai,
    "openllmetry": setup_openllmetry,
    "langfuse": setup_langfuse,
    "langfuse+oi": setup_langfuse,
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
    out = os.path.abspath(a.out or os.path.join(REPO_TESTDATA, a.sdk.replace("+", "-plus-")))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        if os.path.basename(f) != "NOTES.md":
            os.remove(f)
    tmp = tempfile.mkdtemp(prefix="llm-run-")
    ledger = os.path.join(tmp, "ledger.json")
    py = sys.executable
    srv = subprocess.Popen([py, os.path.join(HERE, "fake_openai.py"), "--ledger", ledger, "--port-file", tmp + "/srv.port"])
    rcv = subprocess.Popen([py, os.path.join(HERE, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
    try:
        base_url = "http://127.0.0.1:%d/v1" % wait_port_file(tmp + "/srv.port", srv)
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", rcv)
        import scenarios

        harness, shutdown = SETUPS[a.sdk](base_url, otlp, a.sdk)
        chosen = scenarios.ALL
        if a.sdk == "langfuse+oi" and not a.only:
            a.only = "basic_chat,tool_calling"
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
        # The truth and the receiver's index live beside the dumps, not among them, so
        # that importing testdata/llm/<sdk> reads only what the SDK exported.
        expected = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(out))), "expected", "llm", a.sdk)
        os.makedirs(expected, exist_ok=True)
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(truth.build(led, a.sdk, extra), f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
    finally:
        srv.terminate()
        rcv.terminate()
        srv.wait()
        rcv.wait()
    for f in sorted(os.listdir(out)):
        print("%8d %s" % (os.path.getsize(os.path.join(out, f)), f), file=sys.stderr)


if __name__ == "__main__":
    main()

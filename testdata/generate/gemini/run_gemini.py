#!/usr/bin/env python3
"""Drive one Gemini instrumentation through scenarios_gemini.py and capture its export.

  /tmp/llm-venvs/<sdk>/bin/python run_gemini.py --sdk <sdk> [--out DIR] [--only a,b]

SDK names: gemini-oi, gemini-otel-genai, gemini-logfire, gemini-traceloop (each in its
own venv of the same name, see README.md). Output (default testdata/llm/<sdk>/): the
raw OTLP/HTTP bodies (traces-NNN.pb, logs-NNN.pb); testdata/expected/llm/<sdk>/ gets
index.json (the receiver's log of the POSTs) and truth.json (from the fake server's
ledger, truth_gemini.py).

fake_gemini.py and ../llm/receiver.py run as child processes (stdlib only).
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
LLM = os.path.join(HERE, "..", "llm")
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)
sys.path.insert(1, LLM)

import truth_gemini  # noqa: E402
from run import Harness, SeededIds, plain_root_span_cm, resource, wait_port_file  # noqa: E402  (../llm/run.py)

COMMON = ["google-genai", "opentelemetry-sdk", "opentelemetry-api", "opentelemetry-exporter-otlp-proto-http"]
SDK_PACKAGES = {
    "gemini-oi": COMMON + ["openinference-instrumentation-google-genai", "openinference-instrumentation",
                           "openinference-semantic-conventions"],
    "gemini-otel-genai": COMMON + ["opentelemetry-instrumentation-google-genai", "opentelemetry-util-genai"],
    "gemini-logfire": COMMON + ["logfire", "opentelemetry-instrumentation-google-genai", "opentelemetry-util-genai"],
    "gemini-traceloop": COMMON + ["opentelemetry-instrumentation-google-generativeai",
                                  "opentelemetry-semantic-conventions-ai"],
}


def otel_provider(name, endpoint, seed):
    from opentelemetry import trace as ot
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tp = TracerProvider(resource=resource(name), id_generator=SeededIds(seed).gen)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
    ot.set_tracer_provider(tp)
    return tp


def client(base_url):
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key="fake",
        http_options=types.HttpOptions(base_url=base_url, retry_options=types.HttpRetryOptions(attempts=1)),
    )


def setup_oi(base_url, otlp, sdk):
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.google_genai import GoogleGenAIInstrumentor

    tp = otel_provider("gemini-app-oi", otlp, 201)
    GoogleGenAIInstrumentor().instrument(tracer_provider=tp)
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

    return Harness(client(base_url), cm), lambda: (tp.force_flush(), tp.shutdown())


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    from opentelemetry import _logs
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    tp = otel_provider("gemini-app-otel-genai", otlp, 202)
    lp = LoggerProvider(resource=resource("gemini-app-otel-genai"))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=otlp + "/v1/logs")))
    _logs.set_logger_provider(lp)
    GoogleGenAiSdkInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")

    def shutdown():
        tp.force_flush()
        lp.force_flush()
        tp.shutdown()
        lp.shutdown()

    return Harness(client(base_url), plain_root_span_cm(tracer)), shutdown


def setup_logfire(base_url, otlp, sdk):
    # logfire.configure(send_to_logfire=False) + our OTLP/HTTP exporter as an extra span
    # processor; logfire.instrument_google_genai() wraps opentelemetry-instrumentation-google-genai.
    # Content capture as logfire documents it: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY.
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    import logfire
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    logfire.configure(
        send_to_logfire=False,
        service_name="gemini-app-logfire",
        service_version="1.0.0",
        environment="test",
        console=False,
        additional_span_processors=[BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces"))],
        metrics=False,
    )
    logfire.instrument_google_genai()

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        attrs = {}
        if session_id:
            attrs["session.id"] = session_id
        if user_id:
            attrs["user.id"] = user_id
        with logfire.span(name, **attrs):
            yield

    return Harness(client(base_url), cm), lambda: (logfire.force_flush(), logfire.shutdown())


def setup_traceloop(base_url, otlp, sdk):
    from opentelemetry.instrumentation.google_generativeai import GoogleGenerativeAiInstrumentor

    tp = otel_provider("gemini-app-traceloop", otlp, 204)
    GoogleGenerativeAiInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    return Harness(client(base_url), plain_root_span_cm(tracer)), lambda: (tp.force_flush(), tp.shutdown())


SETUPS = {
    "gemini-oi": setup_oi,
    "gemini-otel-genai": setup_otel_genai,
    "gemini-logfire": setup_logfire,
    "gemini-traceloop": setup_traceloop,
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
    tmp = tempfile.mkdtemp(prefix="gemini-run-")
    ledger = os.path.join(tmp, "ledger.json")
    py = sys.executable
    srv = subprocess.Popen([py, os.path.join(HERE, "fake_gemini.py"), "--ledger", ledger, "--port-file", tmp + "/srv.port"])
    rcv = subprocess.Popen([py, os.path.join(LLM, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
    try:
        base_url = "http://127.0.0.1:%d" % wait_port_file(tmp + "/srv.port", srv)
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", rcv)
        import scenarios_gemini

        harness, shutdown = SETUPS[a.sdk](base_url, otlp, a.sdk)
        chosen = scenarios_gemini.ALL
        if a.only:
            names = a.only.split(",")
            chosen = [f for f in chosen if any(n in f.__name__ for n in names)]
        for fn in chosen:
            print("scenario", fn.__name__, file=sys.stderr, flush=True)
            fn(harness)
        shutdown()
        time.sleep(1.0)
        led = json.load(open(ledger)) if os.path.exists(ledger) else []
        extra = {"versions": versions(a.sdk), "scenarios_run": [f.__name__ for f in chosen]}
        expected = os.path.join(os.path.dirname(os.path.dirname(out)), "expected", "llm", a.sdk)
        os.makedirs(expected, exist_ok=True)
        tpath = os.path.join(expected, "truth.json")
        t = truth_gemini.build(led, a.sdk, extra)
        with open(tpath, "w") as f:
            json.dump(t, f, indent=2)
            f.write("\n")
        # known_sdk_defects: what the dump records against the ledger (defects_gemini.py)
        subprocess.run([py, os.path.join(HERE, "defects_gemini.py"), a.sdk, "--write", "--dump", out, "--truth", tpath],
                       check=True, stdout=subprocess.DEVNULL)
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

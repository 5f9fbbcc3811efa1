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
import contextlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py)
import truth_gemini  # noqa: E402
from common import Harness, flush, oi_root_span_cm, otel_provider, plain_root_span_cm  # noqa: E402

COMMON = ["google-genai", "opentelemetry-sdk", "opentelemetry-api", "opentelemetry-exporter-otlp-proto-http"]
SDK_PACKAGES = {
    "gemini-oi": COMMON + ["openinference-instrumentation-google-genai", "openinference-instrumentation",
                           "openinference-semantic-conventions"],
    "gemini-otel-genai": COMMON + ["opentelemetry-instrumentation-google-genai", "opentelemetry-util-genai"],
    "gemini-logfire": COMMON + ["logfire", "opentelemetry-instrumentation-google-genai", "opentelemetry-util-genai"],
    "gemini-traceloop": COMMON + ["opentelemetry-instrumentation-google-generativeai",
                                  "opentelemetry-semantic-conventions-ai"],
}


def client(base_url):
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key="fake",
        http_options=types.HttpOptions(base_url=base_url, retry_options=types.HttpRetryOptions(attempts=1)),
    )


def setup_oi(base_url, otlp, sdk):
    from openinference.instrumentation.google_genai import GoogleGenAIInstrumentor

    tp = otel_provider("gemini-app-oi", otlp, 201)
    GoogleGenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    return Harness(client(base_url), oi_root_span_cm(tracer)), flush(tp)


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor

    tp = otel_provider("gemini-app-otel-genai", otlp, 202)
    lp = common.logger_provider("gemini-app-otel-genai", otlp)
    GoogleGenAiSdkInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")
    return Harness(client(base_url), plain_root_span_cm(tracer)), flush(tp, lp)


def setup_logfire(base_url, otlp, sdk):
    # logfire.configure(send_to_logfire=False) + our OTLP/HTTP exporter as an extra span
    # processor; logfire.instrument_google_genai() wraps opentelemetry-instrumentation-google-genai.
    # Content capture as logfire documents it: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY.
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    logfire = common.logfire_configure("gemini-app-logfire", otlp)
    logfire.instrument_google_genai()

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        with logfire.span(name, **common.session_user_attrs(session_id, user_id)):
            yield

    return Harness(client(base_url), cm), flush(logfire)


def setup_traceloop(base_url, otlp, sdk):
    from opentelemetry.instrumentation.google_generativeai import GoogleGenerativeAiInstrumentor

    tp = otel_provider("gemini-app-traceloop", otlp, 204)
    GoogleGenerativeAiInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    return Harness(client(base_url), plain_root_span_cm(tracer)), flush(tp)


SETUPS = {
    "gemini-oi": setup_oi,
    "gemini-otel-genai": setup_otel_genai,
    "gemini-logfire": setup_logfire,
    "gemini-traceloop": setup_traceloop,
}


def main():
    a = common.driver_args(SETUPS, "<out>/../../expected/llm/<sdk>").parse_args()
    out = os.path.abspath(a.out or os.path.join(REPO_TESTDATA, a.sdk))
    expected = a.truth_out or os.path.join(os.path.dirname(os.path.dirname(out)), "expected", "llm", a.sdk)

    def scenarios():
        import scenarios_gemini

        return scenarios_gemini.ALL

    def build(led, run):
        return truth_gemini.build(led, a.sdk, {"versions": common.versions(SDK_PACKAGES.get(a.sdk, [])), "scenarios_run": run})

    def defects(tpath):
        # known_sdk_defects: what the dump records against the ledger (defects_gemini.py)
        subprocess.run([sys.executable, os.path.join(HERE, "defects_gemini.py"), a.sdk, "--write", "--dump", out,
                        "--truth", tpath], check=True, stdout=subprocess.DEVNULL)

    common.run_harness(a, out, expected, "gemini-run-", os.path.join(HERE, "fake_gemini.py"), "", SETUPS[a.sdk],
                       scenarios, build, after=defects)


if __name__ == "__main__":
    main()

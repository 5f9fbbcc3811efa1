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
import contextlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py)
import truth  # noqa: E402
from common import Harness, flush, oi_root_span_cm, otel_provider, plain_root_span_cm  # noqa: E402

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


# --------------------------------------------------------------------------- SDK setups
# Each returns (harness, shutdown_fn).


def setup_oi(base_url, otlp, sdk):
    import openai
    from openinference.instrumentation.openai import OpenAIInstrumentor

    tp = otel_provider("llm-app-oi", otlp, 1)
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, oi_root_span_cm(tracer)), flush(tp)


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    tp = otel_provider("llm-app-otel-genai", otlp, 2)
    lp = common.logger_provider("llm-app-otel-genai", otlp)
    OpenAIInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, plain_root_span_cm(tracer)), flush(tp, lp)


def setup_openllmetry(base_url, otlp, sdk):
    import openai
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    tp = otel_provider("llm-app-openllmetry", otlp, 3)
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
    return Harness(client, plain_root_span_cm(tracer)), flush(tp)


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
    return Harness(client, cm), flush(ss)


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


def main():
    a = common.driver_args(SETUPS, "<out>/../../expected/llm/<sdk>").parse_args()
    out = os.path.abspath(a.out or os.path.join(REPO_TESTDATA, a.sdk.replace("+", "-plus-")))
    if a.sdk == "langfuse+oi" and not a.only:
        a.only = "basic_chat,tool_calling"
    # The truth and the receiver's index live beside the dumps, not among them, so
    # that importing testdata/llm/<sdk> reads only what the SDK exported.
    expected = a.truth_out or os.path.join(os.path.dirname(os.path.dirname(out)), "expected", "llm", a.sdk)

    def scenarios():
        import scenarios

        return scenarios.ALL

    def build(led, run):
        return truth.build(led, a.sdk, {"versions": common.versions(SDK_PACKAGES.get(a.sdk, [])), "scenarios_run": run})

    common.run_harness(a, out, expected, "llm-run-", os.path.join(HERE, "fake_openai.py"), "/v1", SETUPS[a.sdk],
                       scenarios, build)


if __name__ == "__main__":
    main()

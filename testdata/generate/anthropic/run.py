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
import contextlib
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py: Children, Harness, otel_provider, root spans, output)
import truth  # noqa: E402  (this folder's truth.py)
from common import flush, oi_root_span_cm, otel_provider, plain_root_span_cm  # noqa: E402

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


class Harness(common.Harness):
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


def yielded_client(client, sdk_conversation=False):
    """What h.trace() yields: the client, or its per-conversation copy."""
    if sdk_conversation:
        return lambda session_id: with_conversation(client, session_id)
    return lambda session_id: client


def plain_root(tracer, client, sdk_conversation=False):
    return plain_root_span_cm(tracer, value=yielded_client(client, sdk_conversation))


def oi_root(tracer, client, sdk_conversation=False):
    return oi_root_span_cm(tracer, value=yielded_client(client, sdk_conversation))


# --------------------------------------------------------------------------- setups -> (harness, shutdown)


def setup_oi(base_url, otlp, sdk):
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    both = sdk == "anthropic-oi-plus-sdk"
    tp = otel_provider("llm-app-" + sdk, otlp, 101 if not both else 106)
    AnthropicInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=both)
    return Harness(client, oi_root(tracer, client, sdk_conversation=both)), flush(tp)


def setup_traceloop(base_url, otlp, sdk):
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    tp = otel_provider("llm-app-" + sdk, otlp, 102)
    AnthropicInstrumentor().instrument(tracer_provider=tp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=False)
    return Harness(client, plain_root(tracer, client)), flush(tp)


def setup_logfire(base_url, otlp, sdk):
    logfire = common.logfire_configure("llm-app-" + sdk, otlp)
    logfire.instrument_anthropic()
    client = client_of(base_url, sdk_tracing=False)

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        with logfire.span(name, _span_name=name, **common.session_user_attrs(session_id, user_id)):
            yield client

    return Harness(client, cm), flush(logfire)


def setup_otel_genai(base_url, otlp, sdk):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

    tp = otel_provider("llm-app-" + sdk, otlp, 104)
    lp = common.logger_provider("llm-app-" + sdk, otlp)
    AnthropicInstrumentor().instrument(tracer_provider=tp, logger_provider=lp)
    tracer = tp.get_tracer("llm-testdata.app")
    client = client_of(base_url, sdk_tracing=False)
    return Harness(client, plain_root(tracer, client)), flush(tp, lp)


def setup_sdk(base_url, otlp, sdk):
    tp = otel_provider("llm-app-" + sdk, otlp, 105)  # registered globally: the SDK's default provider
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


def main():
    a = common.driver_args(SETUPS, "testdata/expected/llm/<sdk>, or <out>-expected with --out").parse_args()
    out = os.path.abspath(a.out or os.path.join(REPO_TESTDATA, a.sdk))
    expected = os.path.join(os.path.dirname(REPO_TESTDATA), "expected", "llm", a.sdk)
    if a.out:
        expected = out.rstrip("/") + "-expected"
    expected = a.truth_out or expected

    def scenarios():
        sspec = importlib.util.spec_from_file_location("anthropic_scenarios", os.path.join(HERE, "scenarios.py"))
        mod = importlib.util.module_from_spec(sspec)
        sspec.loader.exec_module(mod)
        return mod.ALL

    def build(led, run):
        defects_file = os.path.join(HERE, "known_sdk_defects.json")
        defects = json.load(open(defects_file)).get(a.sdk, []) if os.path.exists(defects_file) else []
        return truth.build(led, a.sdk, {"versions": common.versions(SDK_PACKAGES.get(a.sdk, [])), "scenarios_run": run}, defects)

    common.run_harness(a, out, expected, "anthropic-run-", os.path.join(HERE, "fake_anthropic.py"), "",
                       SETUPS[a.sdk], scenarios, build)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drive the LiteLLM Python SDK (with its "otel" callback) against local fake
OpenAI and Anthropic servers and capture what it exports.

  /tmp/llm-venvs/litellm/bin/python testdata/generate/litellm/run_litellm.py [--out DIR] [--only a,b]
      [--default-spans]

Output (default testdata/llm/litellm/): the raw OTLP/HTTP bodies (traces-NNN.pb)
as LiteLLM's own exporter posted them; testdata/expected/llm/litellm/index.json
(receiver's log of POSTs) and truth.json (from the fake servers' ledgers only).

LiteLLM's exporter is configured only through its documented env vars
(OTEL_EXPORTER=otlp_http, OTEL_ENDPOINT=<receiver>/v1/traces, OTEL_SERVICE_NAME,
OTEL_ENVIRONMENT_NAME). LiteLLM builds the global TracerProvider itself; the app
takes its tracer from that global provider for its own root spans.

By default the run sets USE_OTEL_LITELLM_REQUEST_SPAN=true: the documented switch
that gives each call its own `litellm_request` span under the app's span. Without
it (--default-spans, LiteLLM's default since 1.81.0) LiteLLM writes every call's
attributes onto the app's current span, the last call overwriting the earlier ones.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py)

ANTHROPIC_FAKE = common.FAKE_ANTHROPIC
TESTDATA = common.TESTDATA

PACKAGES = ["litellm", "openai", "httpx", "opentelemetry-api", "opentelemetry-sdk",
            "opentelemetry-exporter-otlp-proto-http", "opentelemetry-proto", "tiktoken", "tokenizers"]


def versions():
    return common.versions(PACKAGES)


def start_fakes(c, out, anthropic_fake=ANTHROPIC_FAKE):
    """fake_openai.py, the fake Anthropic server and the receiver; (ledgers, openai base, anthropic base, otlp)."""
    oa_ledger = c.fake("oa", common.FAKE_OPENAI, "ledger-openai.json")
    an_ledger = c.fake("an", anthropic_fake, "ledger-anthropic.json")
    c.receiver(out)
    return (oa_ledger, an_ledger), c.url("oa", "/v1"), c.url("an"), c.url("rcv")


def merged_ledger(ledgers):
    """Both fake servers' entries, each with its provider."""
    led = []
    for path, prov in zip(ledgers, ("openai", "anthropic")):
        for e in common.load_ledger(path):
            e.setdefault("provider", prov)
            led.append(e)
    return led


def write_outputs(out, expected, truth):
    """truth.json and index.json in expected, then known_sdk_defects (check_litellm_dump.py)."""
    tpath = common.write_truth(expected, truth)
    common.move_index(out, expected)
    print("truth/index in", expected, file=sys.stderr)
    # known_sdk_defects: what the dump records that differs from the ledger (inspected span by span)
    subprocess.run([sys.executable, os.path.join(HERE, "check_litellm_dump.py"), out, tpath, "--write-defects"],
                   check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--only", help="comma-separated scenario names (default: all)")
    ap.add_argument("--default-spans", action="store_true",
                    help="do not set USE_OTEL_LITELLM_REQUEST_SPAN (LiteLLM's default: attributes on the app span)")
    ap.add_argument("--anthropic-fake", default=ANTHROPIC_FAKE,
                    help="path of the fake Anthropic server (default: ../anthropic/fake_anthropic.py, the Anthropic suite's)")
    ap.add_argument("--truth-out", help="folder for truth.json and index.json (default: "
                    "testdata/expected/llm/litellm, or <out>/_expected with --out)")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", "litellm"))
    common.clear_dir(out)
    an_fake = a.anthropic_fake
    with common.children("litellm-run-", port_timeout=30) as c:
        ledgers, oa_base, an_base, otlp = start_fakes(c, out, an_fake)

        # --- LiteLLM's documented OTel settings (integrations/opentelemetry.py OpenTelemetryConfig.from_env)
        os.environ["OTEL_EXPORTER"] = "otlp_http"
        os.environ["OTEL_ENDPOINT"] = otlp + "/v1/traces"
        os.environ["OTEL_SERVICE_NAME"] = "llm-app-litellm"
        os.environ["OTEL_ENVIRONMENT_NAME"] = "test"
        os.environ["OTEL_RESOURCE_ATTRIBUTES"] = "service.version=1.0.0,service.instance.id=llm-app-litellm-test-1"
        if not a.default_spans:
            os.environ["USE_OTEL_LITELLM_REQUEST_SPAN"] = "true"
        # use the price list bundled in the wheel, never fetch it
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        os.environ.setdefault("OPENAI_API_KEY", "sk-fake")
        os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-fake")

        import litellm
        from litellm.litellm_core_utils.litellm_logging import _init_custom_logger_compatible_class

        litellm.callbacks = ["otel"]
        # Build the "otel" logger now (LiteLLM would do it lazily on the first call), so
        # that the global TracerProvider exists before the app opens its first root span.
        otel_logger = _init_custom_logger_compatible_class("otel", internal_usage_cache=None, llm_router=None)
        from opentelemetry import trace as ot

        tracer = ot.get_tracer("llm-testdata.app")

        import scenarios_litellm as S

        app = S.App(tracer=tracer, openai_base=oa_base, anthropic_base=an_base)
        chosen = common.choose(S.ALL, a.only)
        common.run_scenarios(chosen, app)
        time.sleep(2.0)  # LiteLLM logs success/failure from worker threads
        tp = ot.get_tracer_provider()
        tp.force_flush()
        tp.shutdown()
        time.sleep(1.0)
        import truth_litellm

        led = merged_ledger(ledgers)
        extra = {
            "versions": versions(),
            "scenarios_run": [f.__name__ for f in chosen],
            "anthropic_fake": os.path.relpath(an_fake, TESTDATA),
            "use_otel_litellm_request_span": not a.default_spans,
        }
        expected = os.path.join(TESTDATA, "expected", "llm", os.path.basename(out))
        if a.out:
            expected = os.path.join(out, "_expected")
        expected = a.truth_out or expected
        write_outputs(out, expected, truth_litellm.build(led, "litellm", extra, model_cost=litellm.model_cost))
    common.print_sizes(out)


if __name__ == "__main__":
    main()

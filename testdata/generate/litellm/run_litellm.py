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
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LLM_GEN = os.path.abspath(os.path.join(HERE, "..", "llm"))
ANTHROPIC_FAKE = os.path.abspath(os.path.join(HERE, "..", "anthropic", "fake_anthropic.py"))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

PACKAGES = ["litellm", "openai", "httpx", "opentelemetry-api", "opentelemetry-sdk",
            "opentelemetry-exporter-otlp-proto-http", "opentelemetry-proto", "tiktoken", "tokenizers"]


def wait_port_file(path, proc, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path):
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("child exited early: %r" % (proc.args,))
        time.sleep(0.05)
    raise RuntimeError("timeout waiting for " + path)


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--only", help="comma-separated scenario names (default: all)")
    ap.add_argument("--default-spans", action="store_true",
                    help="do not set USE_OTEL_LITELLM_REQUEST_SPAN (LiteLLM's default: attributes on the app span)")
    ap.add_argument("--anthropic-fake", default=ANTHROPIC_FAKE,
                    help="path of the fake Anthropic server (default: ../anthropic/fake_anthropic.py, the Anthropic suite's)")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", "litellm"))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        if os.path.basename(f) != "NOTES.md":
            os.remove(f)
    tmp = tempfile.mkdtemp(prefix="litellm-run-")
    py = sys.executable
    oa_ledger = os.path.join(tmp, "ledger-openai.json")
    an_ledger = os.path.join(tmp, "ledger-anthropic.json")
    an_fake = a.anthropic_fake
    procs = []
    try:
        srv = subprocess.Popen([py, os.path.join(LLM_GEN, "fake_openai.py"), "--ledger", oa_ledger,
                                "--port-file", tmp + "/oa.port"])
        procs.append(srv)
        asrv = subprocess.Popen([py, an_fake, "--ledger", an_ledger, "--port-file", tmp + "/an.port"])
        procs.append(asrv)
        rcv = subprocess.Popen([py, os.path.join(LLM_GEN, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
        procs.append(rcv)
        oa_base = "http://127.0.0.1:%d/v1" % wait_port_file(tmp + "/oa.port", srv)
        an_base = "http://127.0.0.1:%d" % wait_port_file(tmp + "/an.port", asrv)
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", rcv)

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
        chosen = S.ALL
        if a.only:
            names = a.only.split(",")
            chosen = [f for f in S.ALL if any(n in f.__name__ for n in names)]
        for fn in chosen:
            print("scenario", fn.__name__, file=sys.stderr, flush=True)
            fn(app)
        time.sleep(2.0)  # LiteLLM logs success/failure from worker threads
        tp = ot.get_tracer_provider()
        tp.force_flush()
        tp.shutdown()
        time.sleep(1.0)
        import truth_litellm

        led = []
        for path, prov in ((oa_ledger, "openai"), (an_ledger, "anthropic")):
            if os.path.exists(path):
                for e in json.load(open(path)):
                    e.setdefault("provider", prov)
                    led.append(e)
        extra = {
            "versions": versions(),
            "scenarios_run": [f.__name__ for f in chosen],
            "anthropic_fake": os.path.relpath(an_fake, TESTDATA),
            "use_otel_litellm_request_span": not a.default_spans,
        }
        expected = os.path.join(TESTDATA, "expected", "llm", os.path.basename(out))
        if a.out:
            expected = os.path.join(out, "_expected")
        os.makedirs(expected, exist_ok=True)
        t = truth_litellm.build(led, "litellm", extra, model_cost=litellm.model_cost)
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(t, f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
        print("truth/index in", expected, file=sys.stderr)
        # known_sdk_defects: what the dump records that differs from the ledger (inspected span by span)
        subprocess.run([py, os.path.join(HERE, "check_litellm_dump.py"), out, os.path.join(expected, "truth.json"),
                        "--write-defects"], check=True, stdout=subprocess.DEVNULL)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    for f in sorted(os.listdir(out)):
        p = os.path.join(out, f)
        if os.path.isfile(p):
            print("%8d %s" % (os.path.getsize(p), f), file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The LiteLLM PROXY (its `litellm` CLI, callbacks: ["otel"]) between an app and the fake servers.

  /tmp/llm-venvs/litellm-proxy/bin/python testdata/generate/litellm/run_litellm_proxy.py [--out DIR]

Processes (all on 127.0.0.1, random ports): fake_openai.py, fake_anthropic.py,
receiver.py, and `litellm --config <tmp>/config.yaml` (the proxy). The proxy
exports through LiteLLM's otel callback, configured by OTEL_EXPORTER /
OTEL_ENDPOINT; the app (this script, the `openai` client) has its own OTel
TracerProvider exporting to the same receiver, opens one root span per scenario
and sends W3C `traceparent` to the proxy, so both halves share a trace.
Session/user as LiteLLM's proxy documents them: body `user`, `metadata`
{session_id, trace_name...}, `litellm_session_id`; `x-`headers are forwarded to the
fakes (general_settings.forward_client_headers_to_llm_api) for the ledgers.
Output: testdata/llm/litellm-proxy/, testdata/expected/llm/litellm-proxy/.
"""
import argparse
import contextlib
import glob
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the app imports litellm too (price list for truth.json)
HERE = os.path.dirname(os.path.abspath(__file__))
LLM_GEN = os.path.abspath(os.path.join(HERE, "..", "llm"))
ANTHROPIC_FAKE = os.path.abspath(os.path.join(HERE, "..", "anthropic", "fake_anthropic.py"))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

from run_litellm import versions, wait_port_file  # noqa: E402

CONFIG = """model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {oa}
      api_key: sk-fake
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: {an}
      api_key: sk-ant-fake
litellm_settings:
  callbacks: ["otel"]
  num_retries: 0
general_settings:
  forward_client_headers_to_llm_api: true
"""


def free_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--only")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", "litellm-proxy"))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        os.remove(f)
    tmp = tempfile.mkdtemp(prefix="litellm-proxy-run-")
    py = sys.executable
    oa_ledger, an_ledger = os.path.join(tmp, "ledger-openai.json"), os.path.join(tmp, "ledger-anthropic.json")
    procs = []
    try:
        procs.append(subprocess.Popen([py, os.path.join(LLM_GEN, "fake_openai.py"), "--ledger", oa_ledger,
                                       "--port-file", tmp + "/oa.port"]))
        procs.append(subprocess.Popen([py, ANTHROPIC_FAKE, "--ledger", an_ledger, "--port-file", tmp + "/an.port"]))
        procs.append(subprocess.Popen([py, os.path.join(LLM_GEN, "receiver.py"), "--out", out,
                                       "--port-file", tmp + "/rcv.port"]))
        oa = "http://127.0.0.1:%d/v1" % wait_port_file(tmp + "/oa.port", procs[0])
        an = "http://127.0.0.1:%d" % wait_port_file(tmp + "/an.port", procs[1])
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", procs[2])
        cfg = os.path.join(tmp, "config.yaml")
        open(cfg, "w").write(CONFIG.format(oa=oa, an=an))
        env = dict(os.environ)
        master = "sk-test-" + secrets.token_hex(24)
        env.update({
            "OTEL_EXPORTER": "otlp_http",
            "OTEL_ENDPOINT": otlp + "/v1/traces",
            "OTEL_SERVICE_NAME": "litellm-proxy",
            "OTEL_ENVIRONMENT_NAME": "test",
            "OTEL_RESOURCE_ATTRIBUTES": "service.version=1.110.2,service.instance.id=litellm-proxy-test-1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # never fetch the price list
            "LITELLM_MASTER_KEY": master,
            "PYTHONUNBUFFERED": "1",
        })
        port = free_port()
        log = open(os.path.join(tmp, "proxy.log"), "w")
        proxy = subprocess.Popen([os.path.join(os.path.dirname(py), "litellm"), "--config", cfg, "--host", "127.0.0.1",
                                  "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proxy)
        base = "http://127.0.0.1:%d" % port
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(base + "/health/liveliness", timeout=2).read()
                break
            except OSError:
                if proxy.poll() is not None or time.time() - t0 > 240:
                    raise RuntimeError("proxy did not start, see " + log.name)
                time.sleep(1)
        print("proxy up after %.0fs (log %s)" % (time.time() - t0, log.name), file=sys.stderr)

        # ---- the app: its own OTel SDK provider, exporting to the same receiver
        import openai
        from opentelemetry import propagate, trace as ot
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        tp = TracerProvider(resource=Resource.create({"service.name": "llm-app-litellm-proxy-client",
                                                      "service.version": "1.0.0", "deployment.environment": "test",
                                                      "service.instance.id": "llm-app-litellm-proxy-client-test-1"}))
        tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces")))
        ot.set_tracer_provider(tp)
        tracer = tp.get_tracer("llm-testdata.app")
        client = openai.OpenAI(base_url=base + "/v1", api_key=master, max_retries=0)

        import scenarios_litellm as S

        class ProxyApp(S.App):
            def call(self, scenario, trace_name, session_id, user_id, model, messages, **kw):
                model = model.split("/", 1)[1]  # the proxy's model_name
                md = {"trace_name": trace_name}
                body = {}
                if session_id:
                    md["session_id"] = session_id
                    body["litellm_session_id"] = session_id
                if user_id:
                    md["user_api_key_user_id"] = user_id
                body["metadata"] = md
                for k in ("thinking",):
                    if k in kw:
                        body[k] = kw.pop(k)
                h = self.headers(scenario, trace_name, session_id, user_id)
                propagate.inject(h)  # W3C traceparent of the app's current span
                r = client.chat.completions.create(model=model, messages=messages, user=user_id or openai.omit,
                                                   extra_headers=h, extra_body=body, **kw)
                return r

        app = ProxyApp(tracer=tracer, openai_base=None, anthropic_base=None)
        chosen = S.ALL
        if a.only:
            chosen = [f for f in S.ALL if any(n in f.__name__ for n in a.only.split(","))]
        for fn in chosen:
            print("scenario", fn.__name__, file=sys.stderr, flush=True)
            try:
                fn(app)
            except AssertionError:
                raise
        tp.force_flush()
        tp.shutdown()
        time.sleep(8.0)  # the proxy's BatchSpanProcessor exports every 5 s
        proxy.terminate()
        proxy.wait(timeout=60)
        time.sleep(1.0)
        import truth_litellm
        import litellm

        led = []
        for path, prov in ((oa_ledger, "openai"), (an_ledger, "anthropic")):
            if os.path.exists(path):
                for e in json.load(open(path)):
                    e.setdefault("provider", prov)
                    led.append(e)
        expected = os.path.join(TESTDATA, "expected", "llm", os.path.basename(out)) if not a.out else os.path.join(out, "_expected")
        os.makedirs(expected, exist_ok=True)
        extra = {"versions": versions(), "scenarios_run": [f.__name__ for f in chosen],
                 "anthropic_fake": os.path.relpath(ANTHROPIC_FAKE, TESTDATA), "via": "LiteLLM proxy (litellm CLI)"}
        t = truth_litellm.build(led, "litellm-proxy", extra, model_cost=litellm.model_cost)
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(t, f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
        print("truth/index in", expected, file=sys.stderr)
        subprocess.run([py, os.path.join(HERE, "check_litellm_dump.py"), out, os.path.join(expected, "truth.json"),
                        "--write-defects"], check=True, stdout=subprocess.DEVNULL)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    for f in sorted(os.listdir(out)):
        print("%8d %s" % (os.path.getsize(os.path.join(out, f)), f), file=sys.stderr)


if __name__ == "__main__":
    main()

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
import os
import secrets
import subprocess
import sys
import time
import urllib.request

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the app imports litellm too (price list for truth.json)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run_litellm import ANTHROPIC_FAKE, TESTDATA, merged_ledger, start_fakes, versions, write_outputs  # noqa: E402

import common  # noqa: E402  (../common.py; run_litellm put it on sys.path)

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
    ap.add_argument("--truth-out", help="folder for truth.json and index.json (default: "
                    "testdata/expected/llm/litellm-proxy, or <out>/_expected with --out)")
    a = ap.parse_args()
    out = os.path.abspath(a.out or os.path.join(TESTDATA, "llm", "litellm-proxy"))
    common.clear_dir(out, keep=())
    with common.children("litellm-proxy-run-", port_timeout=30, stop_timeout=30) as c:
        tmp = c.tmp
        ledgers, oa, an, otlp = start_fakes(c, out)
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
        proxy = c.start("proxy", [os.path.join(os.path.dirname(sys.executable), "litellm"), "--config", cfg,
                                  "--host", "127.0.0.1", "--port", str(port)],
                        port_file=False, env=env, stdout=log, stderr=subprocess.STDOUT)
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
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        tp = TracerProvider(resource=common.resource("llm-app-litellm-proxy-client"))  # random ids, not seeded
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
        chosen = common.choose(S.ALL, a.only)
        common.run_scenarios(chosen, app)
        tp.force_flush()
        tp.shutdown()
        time.sleep(8.0)  # the proxy's BatchSpanProcessor exports every 5 s
        proxy.terminate()
        proxy.wait(timeout=60)
        time.sleep(1.0)
        import truth_litellm
        import litellm

        led = merged_ledger(ledgers)
        expected = os.path.join(TESTDATA, "expected", "llm", os.path.basename(out)) if not a.out else os.path.join(out, "_expected")
        expected = a.truth_out or expected
        extra = {"versions": versions(), "scenarios_run": [f.__name__ for f in chosen],
                 "anthropic_fake": os.path.relpath(ANTHROPIC_FAKE, TESTDATA), "via": "LiteLLM proxy (litellm CLI)"}
        write_outputs(out, expected, truth_litellm.build(led, "litellm-proxy", extra, model_cost=litellm.model_cost))
    common.print_sizes(out)


if __name__ == "__main__":
    main()

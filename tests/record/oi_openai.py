"""The real `openai` client, instrumented by OpenInference and exported by the OTel
SDK's OTLP/HTTP exporter, against the fake OpenAI server of testdata/generate (run in
this process), whose ledger (LEDGER) records the usage each request was answered with.
Each call runs in a trace of its own, whose id is sent as X-Trace-Name so that the
ledger names it.

    python oi_openai.py LEDGER
"""
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testdata", "generate", "llm"))
import fake_openai  # noqa: E402

from openinference.instrumentation.openai import OpenAIInstrumentor  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402

srv = fake_openai.make_server(sys.argv[1])
threading.Thread(target=srv.serve_forever, daemon=True).start()

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
OpenAIInstrumentor().instrument(tracer_provider=provider)

import openai  # noqa: E402

client = openai.OpenAI(base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", api_key="sk-fake")
tracer = trace.get_tracer("oi-app")
for i, model in enumerate(["gpt-4o-mini", "gpt-4o", "gpt-4o-mini"]):
    with tracer.start_as_current_span(f"turn {i}") as root:
        tid = format(root.get_span_context().trace_id, "032x")
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": f"question {i}"}],
            extra_headers={"X-Trace-Name": tid},
        )
provider.shutdown()
srv.shutdown()

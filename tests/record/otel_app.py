"""An app traced by the OpenTelemetry Python SDK, exporting with the standard OTLP
exporter that OTEL_EXPORTER_OTLP_PROTOCOL names (http/protobuf or grpc), configured by
the environment `traces record` sets. It makes TRACES traces of a root span and
CALLS model-call spans with gen_ai usage, and one log record per trace, and writes
what it sent to LEDGER: {trace_id: {"spans": n, "input": i, "output": o}}.

    python otel_app.py LEDGER [--traces N] [--calls M] [--seed S]
"""
import argparse
import json
import logging
import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ap = argparse.ArgumentParser()
ap.add_argument("ledger")
ap.add_argument("--traces", type=int, default=3)
ap.add_argument("--calls", type=int, default=2)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--logs", action="store_true")
a = ap.parse_args()

if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

resource = Resource.create({"service.name": f"record-test-{a.seed}"})
provider = TracerProvider(resource=resource)
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), max_export_batch_size=512))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("record-test")

if a.logs:
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logger_provider)
    log = logging.getLogger("record-test")
    log.addHandler(LoggingHandler(logger_provider=logger_provider))
    log.setLevel(logging.INFO)

ledger = {}
for t in range(a.traces):
    with tracer.start_as_current_span(f"job {a.seed}-{t}") as root:
        tid = format(root.get_span_context().trace_id, "032x")
        entry = {"spans": 1 + a.calls, "input": 0, "output": 0}
        for c in range(a.calls):
            inp, out = 100 * a.seed + 7 * t + c + 1, 10 + t + c
            with tracer.start_as_current_span("chat gpt-4o-mini") as s:
                s.set_attribute("gen_ai.operation.name", "chat")
                s.set_attribute("gen_ai.request.model", "gpt-4o-mini")
                s.set_attribute("gen_ai.usage.input_tokens", inp)
                s.set_attribute("gen_ai.usage.output_tokens", out)
            entry["input"] += inp
            entry["output"] += out
        if a.logs:
            log.info("job %s done", t)
        ledger[tid] = entry

provider.shutdown()
if a.logs:
    logger_provider.shutdown()
with open(a.ledger, "w") as f:
    json.dump(ledger, f)

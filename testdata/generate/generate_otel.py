#!/usr/bin/env python3
"""Generate REAL OpenTelemetry trace/log dumps for the `traces` test suite.

Everything under testdata/otel/ (except the optional phoenix-* files) is
derived from ONE run of this script, so every file holds exactly the same
spans and log records.

How it works
------------
1. A tiny OTLP/HTTP receiver (http.server, 127.0.0.1, random free port, in a
   thread) stores the raw protobuf bodies POSTed to /v1/traces and /v1/logs.
2. The real OpenTelemetry Python SDK is configured with
     * TracerProvider + BatchSpanProcessor(OTLPSpanExporter -> receiver)
     * SimpleSpanProcessor(ConsoleSpanExporter(out=console.json))  [default
       pretty printer: back-to-back indent=4 JSON objects]
     * SimpleSpanProcessor(ConsoleSpanExporter(out=console.jsonl,
       formatter=lambda s: s.to_json(indent=None) + "\\n"))  [one per line]
     * LoggerProvider + BatchLogRecordProcessor(OTLPLogExporter -> receiver)
   Span/trace ids come from a custom IdGenerator seeded with
   random.Random(42), so ids are identical on every run; timestamps are real.
3. A small deterministic "app" produces 3 traces (a GenAI chat request, a
   failing checkout, a producer/consumer pair with links and events) and 3
   log records (2 GenAI events inside the LLM CLIENT span, 1 outside any
   span).
4. After shutdown (flush), the captured protobuf bodies are written out in
   every format the tool reads (see README.md), plus ../expected/otel.json, the ground
   truth computed from the protobuf.

Usage
-----
    python3 -m venv /tmp/gen-venv
    /tmp/gen-venv/bin/pip install -r testdata/generate/requirements.txt
    /tmp/gen-venv/bin/python testdata/generate/generate_otel.py [--out DIR]

Notes on what the SDK (1.45.x) does, found while writing this:
  * bytes attribute values are accepted by the SDK and exported as
    AnyValue.bytes_value, BUT ConsoleSpanExporter's Span.to_json() crashes on
    them (json.dumps cannot encode bytes). So bytes values are only used where
    the console exporter never looks: instrumentation-scope attributes of one
    tracer and a log record attribute.
  * The SDK now accepts "extended" attribute values on spans too (maps,
    heterogeneous arrays, None). One span (trace 3, "orders process") carries
    such values; None is exported as an empty AnyValue (`"value": {}`).
  * LogRecord.event_name is a real field and is exported as
    LogRecord.event_name (no "event.name" attribute is added).
  * A log record emitted without a timestamp has timeUnixNano omitted (0) and
    only observedTimeUnixNano set (the out-of-span record below).
  * Resource.create() adds a random service.instance.id (UUID); it is pinned
    here so reruns only differ in timestamps (and exception line numbers).
  * The OTLP/HTTP exporter sends one uncompressed request per signal at
    shutdown with the batch settings used here.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import http.server
import io
import json
import os
import random
import sys
import threading
import time
import zlib
from pathlib import Path

# Make the run independent of the caller's OTEL_* environment.
for _k in list(os.environ):
    if _k.startswith("OTEL_"):
        del os.environ[_k]

import zstandard  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from opentelemetry import context as otel_context  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry._logs import SeverityNumber  # noqa: E402
from opentelemetry.exporter.otlp.proto.http import Compression  # noqa: E402
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator  # noqa: E402
from opentelemetry.trace import Link, SpanKind, Status, StatusCode  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "otel"


# --------------------------------------------------------------------------
# 1. OTLP/HTTP receiver
# --------------------------------------------------------------------------
class Captured:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: dict[str, list[bytes]] = {"/v1/traces": [], "/v1/logs": []}
        self.headers: dict[str, list[dict[str, str]]] = {"/v1/traces": [], "/v1/logs": []}


CAPTURED = Captured()


class OTLPHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            body = gzip.decompress(body)
        elif enc == "deflate":
            body = zlib.decompress(body)
        path = self.path.split("?")[0]
        if path not in CAPTURED.bodies:
            self.send_response(404)
            self.end_headers()
            return
        with CAPTURED.lock:
            CAPTURED.bodies[path].append(body)
            CAPTURED.headers[path].append(dict(self.headers.items()))
        # An empty Export*ServiceResponse serializes to zero bytes.
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # keep stdout clean
        pass


def start_receiver() -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OTLPHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


# --------------------------------------------------------------------------
# 2. Deterministic ids
# --------------------------------------------------------------------------
class SeededIdGenerator(IdGenerator):
    """Trace/span ids from random.Random(42): identical on every run."""

    def __init__(self, seed: int = 42) -> None:
        self._rng = random.Random(seed)

    def generate_span_id(self) -> int:
        while True:
            v = self._rng.getrandbits(64)
            if v != trace.INVALID_SPAN_ID:
                return v

    def generate_trace_id(self) -> int:
        while True:
            v = self._rng.getrandbits(128)
            if v != trace.INVALID_TRACE_ID:
                return v


# --------------------------------------------------------------------------
# 3. The "app"
# --------------------------------------------------------------------------
def run_app(tp: TracerProvider, lp: LoggerProvider) -> None:
    http_tracer = tp.get_tracer("checkout.http", "1.2.3")
    agent_tracer = tp.get_tracer(
        "checkout.agent",
        "0.9.0",
        schema_url="https://opentelemetry.io/schemas/1.37.0",
        # bytes are fine here: the console exporter does not print scopes.
        attributes={"scope.build_id": b"\x00\xffbin", "scope.tier": "gold"},
    )
    mq_tracer = tp.get_tracer("checkout.messaging")
    genai_logger = lp.get_logger("checkout.genai", "0.9.0")
    app_logger = lp.get_logger("checkout.app")

    # ---------------- Trace 1: GenAI chat request ----------------
    with http_tracer.start_as_current_span(
        "POST /chat",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "POST",
            "url.path": "/chat",
            "url.scheme": "http",
            "server.port": 8080,
            "http.response.status_code": 200,
            "user_agent.original": "curl/8.5.0",
        },
    ) as root1:
        root1.add_event("request.received", {"http.request.body.size": 512})
        with agent_tracer.start_as_current_span(
            "agent.run",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "checkout-agent",
                "session.id": "sess-1",
                "user.id": "user-a",
                "app.max_steps": 8,
                "app.streaming": False,
            },
        ) as agent_span:
            with agent_tracer.start_as_current_span(
                "chat gpt-4o-mini",
                kind=SpanKind.CLIENT,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.request.temperature": 0.7,
                    "gen_ai.request.top_p": 1.0,
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.request.stop_sequences": ["\n\n", "END"],
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.usage.input_tokens": 120,
                    "gen_ai.usage.output_tokens": 45,
                    "session.id": "sess-1",
                    "user.id": "user-a",
                    "server.address": "api.openai.com",
                },
            ) as llm_span:
                now = time.time_ns()
                genai_logger.emit(
                    timestamp=now,
                    severity_number=SeverityNumber.INFO,
                    event_name="gen_ai.user.message",
                    body={"content": "What is the weather in Paris?", "role": "user"},
                    attributes={"gen_ai.provider.name": "openai"},
                )
                genai_logger.emit(
                    timestamp=now + 1000,
                    severity_number=SeverityNumber.INFO,
                    event_name="gen_ai.choice",
                    body={
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"content": "Sunny, 21°C", "role": "assistant"},
                    },
                    attributes={"gen_ai.provider.name": "openai"},
                )
            with agent_tracer.start_as_current_span(
                "execute_tool get_weather",
                kind=SpanKind.INTERNAL,
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.call.id": "call_abc123",
                    "gen_ai.tool.type": "function",
                    # int64 that is not exactly representable as a double:
                    "app.big_int": 9007199254740993,
                    "app.negative_int": -42,
                    "app.ratio": 0.7,
                    "app.one": 1.0,
                    "app.cached": True,
                    "app.tags": ["weather", "paris", "ünïcødé"],
                    "app.retry_delays_ms": [100, 200, -1, 9007199254740993],
                    "app.scores": [0.25, 1.0, -3.5],
                    "app.flags": [True, False, True],
                },
            ):
                pass
    agent_ctx = agent_span.get_span_context()
    llm_ctx = llm_span.get_span_context()

    # ---------------- Trace 2: failing checkout ----------------
    with http_tracer.start_as_current_span(
        "POST /checkout",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "POST",
            "url.path": "/checkout",
            "http.response.status_code": 402,
            "session.id": "sess-2",
        },
    ) as root2:
        with agent_tracer.start_as_current_span(
            "charge_card",
            kind=SpanKind.CLIENT,
            # record/raise handled by hand so the test data shows the plain
            # record_exception() path plus an explicit status description.
            record_exception=False,
            set_status_on_exception=False,
            attributes={"payment.amount": 19.99, "payment.currency": "EUR", "payment.attempt": 1},
        ) as charge:
            try:
                raise ValueError("card declined: insufficient funds")
            except ValueError as exc:
                charge.record_exception(exc, attributes={"payment.retryable": False})
                charge.set_status(Status(StatusCode.ERROR, "card declined"))
        root2.set_status(Status(StatusCode.OK))
    root2_ctx = root2.get_span_context()

    # ---------------- Trace 3: producer / consumer with links ----------------
    with mq_tracer.start_as_current_span(
        "orders publish",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": "orders",
        },
    ):
        with mq_tracer.start_as_current_span(
            "orders process",
            kind=SpanKind.CONSUMER,
            links=[
                Link(agent_ctx, {"link.reason": "caused_by", "link.weight": 2}),
                Link(root2_ctx),
            ],
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.batch.message_count": 2,
                # extended attribute values (accepted by SDK 1.45):
                "app.extended.map": {"region": "eu-west-1", "shards": [1, 2], "primary": True},
                "app.extended.mixed": [1, "two", 3.0, False],
                "app.extended.none": None,
            },
        ) as consumer:
            consumer.add_event(
                "message.received",
                {
                    "messaging.message.id": "m-1",
                    "retry": 0,
                    "ok": True,
                    "weights": [0.5, 1.5],
                    "labels": ["a", "b"],
                },
            )
            consumer.add_event("message.acked")

    # A log record outside any span: no trace context, no timestamp (the SDK
    # then only fills observedTimeUnixNano). The bytes attribute is only
    # possible here (see module docstring).
    app_logger.emit(
        context=otel_context.Context(),
        severity_number=SeverityNumber.WARN,
        severity_text="WARN",
        body="cache warmup finished with 3 misses",
        attributes={"cache.misses": 3, "payload.raw": b"\x00\xffbin"},
    )
    _ = llm_ctx


# --------------------------------------------------------------------------
# 4. Output helpers
# --------------------------------------------------------------------------
ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def ids_to_hex(obj):
    """Rewrite base64 id fields (as emitted by json_format) to lowercase hex."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in ID_KEYS and isinstance(v, str):
                out[k] = base64.b64decode(v).hex()
            else:
                out[k] = ids_to_hex(v)
        return out
    if isinstance(obj, list):
        return [ids_to_hex(v) for v in obj]
    return obj


def otlp_json_dict(msg) -> dict:
    return ids_to_hex(json_format.MessageToDict(msg, use_integers_for_enums=True))


def merge_requests(cls, bodies: list[bytes]):
    merged = cls()
    for b in bodies:
        part = cls()
        part.ParseFromString(b)
        merged.MergeFrom(part)  # repeated fields are concatenated
    return merged


def split_per_trace(req: ExportTraceServiceRequest) -> list[ExportTraceServiceRequest]:
    """One request per trace id (order of first appearance), each keeping its
    resource and scope, as separate collector batches would."""
    order: list[bytes] = []
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for sp in ss.spans:
                if sp.trace_id not in order:
                    order.append(sp.trace_id)
    out = []
    for tid in order:
        r = ExportTraceServiceRequest()
        for rs in req.resource_spans:
            new_rs = None
            for ss in rs.scope_spans:
                spans = [sp for sp in ss.spans if sp.trace_id == tid]
                if not spans:
                    continue
                if new_rs is None:
                    new_rs = r.resource_spans.add()
                    new_rs.resource.CopyFrom(rs.resource)
                    new_rs.schema_url = rs.schema_url
                new_ss = new_rs.scope_spans.add()
                new_ss.scope.CopyFrom(ss.scope)
                new_ss.schema_url = ss.schema_url
                new_ss.spans.extend(spans)
        out.append(r)
    return out


def any_value_to_json(v):
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "string_value":
        return v.string_value
    if which == "bool_value":
        return v.bool_value
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    if which == "array_value":
        return [any_value_to_json(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value_to_json(kv.value) for kv in v.kvlist_value.values}
    raise ValueError(which)


def expected_truth(treq: ExportTraceServiceRequest, lreq: ExportLogsServiceRequest) -> dict:
    spans = []
    for rs in treq.resource_spans:
        service = next(
            (kv.value.string_value for kv in rs.resource.attributes if kv.key == "service.name"), None
        )
        for ss in rs.scope_spans:
            for sp in ss.spans:
                spans.append(
                    {
                        "trace_id": sp.trace_id.hex(),
                        "span_id": sp.span_id.hex(),
                        "parent_span_id": sp.parent_span_id.hex() or None,
                        "name": sp.name,
                        "kind": int(sp.kind),
                        "start_time_unix_nano": sp.start_time_unix_nano,
                        "end_time_unix_nano": sp.end_time_unix_nano,
                        "status_code": int(sp.status.code),
                        "status_message": sp.status.message,
                        "service_name": service,
                        "scope_name": ss.scope.name,
                        "attribute_count": len(sp.attributes),
                        "event_count": len(sp.events),
                        "link_count": len(sp.links),
                    }
                )
    spans.sort(key=lambda s: (s["trace_id"], s["span_id"]))
    logs = []
    for rl in lreq.resource_logs:
        for sl in rl.scope_logs:
            for lr in sl.log_records:
                logs.append(
                    {
                        "trace_id": lr.trace_id.hex() or None,
                        "span_id": lr.span_id.hex() or None,
                        "event_name": lr.event_name or None,
                        "body_json": any_value_to_json(lr.body),
                    }
                )
    return {"spans": spans, "logs": logs, "traces": len({s["trace_id"] for s in spans})}


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    server, base = start_receiver()

    resource = Resource.create(
        {
            "service.name": "checkout-agent",
            "service.version": "1.2.3",
            "deployment.environment": "test",
            # Resource.create() would otherwise add a random UUID here.
            "service.instance.id": "checkout-agent-test-1",
        }
    )

    console_pretty = open(out / "console.json", "w", encoding="utf-8", newline="\n")
    console_lines = open(out / "console.jsonl", "w", encoding="utf-8", newline="\n")

    tp = TracerProvider(resource=resource, id_generator=SeededIdGenerator(42))
    tp.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{base}/v1/traces", compression=Compression.NoCompression),
            max_queue_size=10_000,
            max_export_batch_size=10_000,
            schedule_delay_millis=60_000,
        )
    )
    tp.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=console_pretty)))
    tp.add_span_processor(
        SimpleSpanProcessor(
            ConsoleSpanExporter(out=console_lines, formatter=lambda s: s.to_json(indent=None) + "\n")
        )
    )

    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{base}/v1/logs", compression=Compression.NoCompression),
            max_queue_size=10_000,
            max_export_batch_size=10_000,
            schedule_delay_millis=60_000,
        )
    )

    run_app(tp, lp)

    tp.shutdown()
    lp.shutdown()
    console_pretty.close()
    console_lines.close()
    server.shutdown()

    tbodies = CAPTURED.bodies["/v1/traces"]
    lbodies = CAPTURED.bodies["/v1/logs"]
    if not tbodies or not lbodies:
        print(f"receiver got {len(tbodies)} traces / {len(lbodies)} logs requests", file=sys.stderr)
        return 1

    # Single-document files: the exact body if there was one request.
    treq = merge_requests(ExportTraceServiceRequest, tbodies)
    lreq = merge_requests(ExportLogsServiceRequest, lbodies)
    spans_pb = tbodies[0] if len(tbodies) == 1 else treq.SerializeToString()
    logs_pb = lbodies[0] if len(lbodies) == 1 else lreq.SerializeToString()

    def write(name: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        (out / name).write_bytes(data)

    write("spans.otlp.pb", spans_pb)
    write("logs.otlp.pb", logs_pb)

    spans_json = json.dumps(otlp_json_dict(treq), indent=2, ensure_ascii=False) + "\n"
    logs_json = json.dumps(otlp_json_dict(lreq), indent=2, ensure_ascii=False) + "\n"
    write("spans.otlp.json", spans_json)
    write("logs.otlp.json", logs_json)

    write("spans.protojson.json", json_format.MessageToJson(treq) + "\n")
    snake = json.loads(
        json_format.MessageToJson(treq, preserving_proto_field_name=True, use_integers_for_enums=True)
    )
    write("spans.snake.json", json.dumps(ids_to_hex(snake), indent=2, ensure_ascii=False) + "\n")

    # Collector file exporter shapes: one request per trace.
    per_trace = split_per_trace(treq)
    compact = lambda d: json.dumps(d, separators=(",", ":"), ensure_ascii=False)  # noqa: E731
    trace_lines = [compact(otlp_json_dict(r)) + "\n" for r in per_trace]
    log_line = compact(otlp_json_dict(lreq)) + "\n"
    collector_jsonl = "".join(trace_lines) + log_line
    write("collector.jsonl", collector_jsonl)
    write("collector-traces-only.jsonl", "".join(trace_lines))

    framed = io.BytesIO()
    for msg in [*per_trace, lreq]:
        b = msg.SerializeToString()
        framed.write(len(b).to_bytes(4, "big"))
        framed.write(b)
    write("collector.binpb", framed.getvalue())

    def gz(data: bytes) -> bytes:
        return gzip.compress(data, mtime=0)

    def zst(data: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=3).compress(data)

    write("collector.jsonl.gz", gz(collector_jsonl.encode()))
    write("collector.jsonl.zst", zst(collector_jsonl.encode()))
    write("spans.otlp.pb.gz", gz(spans_pb))
    write("spans.otlp.json.zst", zst(spans_json.encode()))
    write("logs.otlp.json.gz", gz(logs_json.encode()))

    truth = expected_truth(treq, lreq)
    # Beside the dumps, not among them: importing testdata/otel must not read it.
    truth_path = args.out.parent / "expected" / "otel.json"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")

    # ---- summary ----
    print(f"traces requests received: {len(tbodies)}; logs requests received: {len(lbodies)}")
    hdrs = {k.lower(): v for k, v in CAPTURED.headers["/v1/traces"][0].items()}
    print(
        f"content-type: {hdrs.get('content-type')}, "
        f"content-encoding: {hdrs.get('content-encoding')}, user-agent: {hdrs.get('user-agent')}"
    )
    print(f"spans: {len(truth['spans'])}  logs: {len(truth['logs'])}  traces: {truth['traces']}")
    for p in sorted(out.iterdir()):
        if p.is_file():
            print(f"  {p.stat().st_size:>8}  {p.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

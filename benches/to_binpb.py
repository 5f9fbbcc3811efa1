"""Writes a dump of OTLP JSON lines (one ExportTraceServiceRequest a line, as
benches/generate.py makes them) as the Collector file exporter's `format: proto`: each
request as protobuf, after its length in 4 big-endian bytes. The same spans, so that
the benchmark times `traces` on both encodings of one dump.

    python benches/to_binpb.py DUMP.jsonl OUT.binpb

Needs the OTLP protobuf classes (opentelemetry-proto), as the record tests' clients do.
"""
import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

IDS = ("traceId", "spanId", "parentSpanId")


def hex_ids_to_base64(v):
    """OTLP JSON spells ids in hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(v, dict):
        return {k: base64.b64encode(bytes.fromhex(x)).decode() if k in IDS and isinstance(x, str) and x
                else hex_ids_to_base64(x) for k, x in v.items()}
    if isinstance(v, list):
        return [hex_ids_to_base64(x) for x in v]
    return v


def main():
    src, dest = sys.argv[1], sys.argv[2]
    n = 0
    with open(src) as f, open(dest, "wb") as out:
        for line in f:
            if not line.strip():
                continue
            req = json_format.ParseDict(hex_ids_to_base64(json.loads(line)), ExportTraceServiceRequest())
            b = req.SerializeToString()
            out.write(len(b).to_bytes(4, "big"))
            out.write(b)
            n += 1
    print(f"{n} requests written to {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()

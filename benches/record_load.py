"""The receiver under load: OTLP/HTTP protobuf batches of 512 spans, sent by 4
concurrent clients to `traces record` (serving, no command), beside `traces import` of
the same requests from a length-prefixed file in the same run: the receiver's ceiling.
Prints spans per second received (all answered) and committed (received, then the
import at shutdown), the import's rate, the receiver's peak memory, and how many answers
were not 200 (an exporter told to retry). Then checks that the store holds every span.

    python benches/record_load.py TRACES_BIN DUMP.jsonl [SPANS]

Runs with the Python that scripts/record-clients.sh installs (it has the OTLP protobuf
classes): target/record-clients/venv/bin/python.
"""
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

BATCH = 512
CLIENTS = 4


def to_proto_json(d):
    """OTLP JSON ids are hex; protobuf's JSON mapping wants bytes as base64."""
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                out[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                out[k] = to_proto_json(v)
        return out
    if isinstance(d, list):
        return [to_proto_json(x) for x in d]
    return d


def bodies(dump, want):
    """Requests of about BATCH spans each, `want` spans in all."""
    out, n = [], 0
    cur, in_cur = ExportTraceServiceRequest(), 0
    with open(dump) as f:
        for line in f:
            req = json_format.ParseDict(to_proto_json(json.loads(line)), ExportTraceServiceRequest(),
                                        ignore_unknown_fields=True)
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    r = cur.resource_spans.add()
                    r.resource.CopyFrom(rs.resource)
                    r.scope_spans.add().CopyFrom(ss)
                    in_cur += len(ss.spans)
                    if in_cur >= BATCH:
                        out.append(cur.SerializeToString())
                        n += in_cur
                        cur, in_cur = ExportTraceServiceRequest(), 0
                        if n >= want:
                            return out, n
    if in_cur:
        out.append(cur.SerializeToString())
        n += in_cur
    return out, n


def send(port, mine, answers):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for body in mine:
        c.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        r = c.getresponse()
        r.read()
        answers.append(r.status)


def watch_peak(p, peak):
    """The receiver's peak resident memory (VmHWM, kB), read until it exits."""
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            return
        time.sleep(0.05)


def rss_mb(stderr):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1)) / 1024


def main():
    traces, dump = sys.argv[1], sys.argv[2]
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
    reqs, spans = bodies(dump, want)
    tmp = tempfile.mkdtemp(prefix="record-bench-")
    framed = os.path.join(tmp, "requests.binpb")
    with open(framed, "wb") as f:
        for b in reqs:
            f.write(len(b).to_bytes(4, "big") + b)
    mb = os.path.getsize(framed) / 1e6

    t0 = time.perf_counter()
    imp = subprocess.run(["/usr/bin/time", "-v", traces, "--store", os.path.join(tmp, "imported"),
                          "import", framed], capture_output=True, text=True)
    t_import = time.perf_counter() - t0
    assert imp.returncode == 0, imp.stderr[-2000:]

    store = os.path.join(tmp, "received")
    # Not under /usr/bin/time: SIGTERM must reach the receiver itself.
    p = subprocess.Popen([traces, "--store", store, "record", "--listen", "127.0.0.1:0",
                          "--commit-every", "1h"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    peak = [0]
    threading.Thread(target=watch_peak, args=(p, peak), daemon=True).start()
    line = p.stderr.readline()
    port = int(line.strip().rsplit(":", 1)[1])
    answers = []
    threads = [threading.Thread(target=send, args=(port, reqs[i::CLIENTS], answers)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_recv = time.perf_counter() - t0
    p.terminate()
    err = p.stderr.read()
    p.wait()
    t_all = time.perf_counter() - t0
    assert p.returncode == 0, err[-2000:]
    not_ok = sum(1 for a in answers if a != 200)

    listed = subprocess.run([traces, "--store", store, "list", "--format", "json", "--limit", "100000000"],
                            capture_output=True, text=True, check=True)
    stored = sum(r["spans"] for r in json.loads(listed.stdout))
    assert stored == spans or not_ok, f"{stored} spans stored of {spans} sent"

    print(f"receiver: {spans:,} spans in {len(reqs):,} requests of about {BATCH} ({mb:.0f} MB protobuf), {CLIENTS} clients")
    print(f"  received (all answered)  {t_recv:6.2f} s  {spans / t_recv:>10,.0f} spans/s")
    print(f"  committed (+ import)     {t_all:6.2f} s  {spans / t_all:>10,.0f} spans/s")
    print(f"  traces import, same file {t_import:6.2f} s  {spans / t_import:>10,.0f} spans/s")
    print(f"  received / import rate   {t_import / t_recv:6.2f}x;  committed / import {t_import / t_all:.2f}x")
    print(f"  receiver peak RSS {peak[0] / 1024:.0f} MB (import {rss_mb(imp.stderr):.0f} MB); answers not 200: {not_ok}")
    print(f"  spans stored {stored:,} of {spans:,}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Minimal OTLP/HTTP receiver (stdlib only): stores every POST body raw.

Any POST path is accepted (/v1/traces, /v1/logs, /v1/metrics,
/api/public/otel/v1/traces for Langfuse, ...). The body is saved after gzip /
deflate decompression (when Content-Encoding says so) as
  traces-NNN.pb | traces-NNN.json | logs-NNN.pb | logs-NNN.json | metrics-NNN.*
(NNN counts per signal, in arrival order; .pb for protobuf, .json for JSON)
and described in index.json: seq, file, path, content_type, content_encoding,
user_agent, size (stored, decompressed), wire_size.

The reply is an empty Export*ServiceResponse (empty protobuf body, or {}).

Run standalone:  python receiver.py --out DIR [--port-file F]
"""
import gzip
import json
import os
import sys
import threading
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fakeserver  # noqa: E402  (../fakeserver.py)


class Store:
    def __init__(self, out):
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.lock = threading.Lock()
        self.counts = {}
        self.index = []
        self.seq = 0

    def save(self, path, ctype, cenc, ua, wire, body):
        signal = "other"
        for s in ("traces", "logs", "metrics"):
            if path.rstrip("/").endswith(s):
                signal = s
        ext = "json" if "json" in (ctype or "").lower() else "pb"
        with self.lock:
            self.seq += 1
            if signal == "other":  # e.g. Langfuse media upload calls: indexed, not stored
                name = None
            else:
                n = self.counts.get(signal, 0) + 1
                self.counts[signal] = n
                name = "%s-%03d.%s" % (signal, n, ext)
                with open(os.path.join(self.out, name), "wb") as f:
                    f.write(body)
            self.index.append(
                {
                    "seq": self.seq,
                    "file": name,
                    "path": path,
                    "content_type": ctype,
                    "content_encoding": cenc,
                    "user_agent": ua,
                    "size": len(body),
                    "wire_size": wire,
                }
            )
            with open(os.path.join(self.out, "index.json.tmp"), "w") as f:
                json.dump(self.index, f, indent=2)
            os.replace(os.path.join(self.out, "index.json.tmp"), os.path.join(self.out, "index.json"))


class Handler(fakeserver.QuietHandler):
    store = None

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            raw = self.rfile.read(n)
        elif (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        else:
            raw = b""
        enc = (self.headers.get("Content-Encoding") or "").lower()
        body = raw
        if enc == "gzip":
            body = gzip.decompress(raw)
        elif enc == "deflate":
            body = zlib.decompress(raw)
        ctype = self.headers.get("Content-Type") or ""
        self.store.save(self.path, ctype, enc or None, self.headers.get("User-Agent"), len(raw), body)
        if self.path.split("?")[0].rstrip("/").endswith("/api/public/media"):
            # Langfuse asks for a media upload URL; null uploadUrl = "already uploaded, skip".
            out, rtype = b'{"mediaId": "fake-media-id", "uploadUrl": null}', "application/json"
        elif "json" in ctype.lower():
            out, rtype = b"{}", "application/json"
        else:
            out, rtype = b"", "application/x-protobuf"
        self.send_body(200, out, rtype)

    def do_GET(self):
        self.send_body(200, b"{}", "application/json")


def make_server(out, port=0):
    return fakeserver.make_server(Handler, "BoundReceiver", port, store=Store(out))


def main():
    fakeserver.serve_main(make_server, "OTLP receiver on http://127.0.0.1:%d", arg="--out")


if __name__ == "__main__":
    main()

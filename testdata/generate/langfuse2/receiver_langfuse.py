#!/usr/bin/env python3
"""A local stand-in for the Langfuse public API, as far as the Python SDK 2.x uses it (stdlib only).

  POST /api/public/ingestion   -> 207 {"successes": [{"id": <event id>, "status": 201}, ...], "errors": []}
                                  (what Langfuse answers); the body is stored as ONE line of
                                  <out>/ingestion.jsonl, in arrival order: the exact bytes when the
                                  (gzip-decompressed) body is already one line, else the JSON
                                  re-serialized compactly
  GET  /api/public/health      -> {"status": "OK", "version": "2.95.0"}
  GET  /api/public/projects    -> one project (what auth_check() reads)
  POST /api/public/media       -> {"mediaId": ..., "uploadUrl": null} ("already uploaded")
  anything else                -> 404 {"message": "not found"}

Any Authorization is accepted. Every request is described in <out>/index.json: seq,
method, path, line (1-based line of ingestion.jsonl, null when not stored),
content_type, content_encoding, user_agent, authorization scheme, size, wire_size,
batch_size and the event types of the batch, the SDK headers x_langfuse_sdk_*.

Run standalone:  python receiver_langfuse.py --out DIR [--port-file F]
"""
import gzip
import json
import os
import sys
import threading
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fakeserver  # noqa: E402  (../fakeserver.py)

PROJECT = {"data": [{"id": "cltestproject0000000000001", "name": "traces-testdata", "metadata": {}}]}


class Store:
    def __init__(self, out):
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.lock = threading.Lock()
        self.index = []
        self.lines = 0
        self.jsonl = os.path.join(out, "ingestion.jsonl")
        open(self.jsonl, "wb").close()

    def add(self, info, body=None):
        with self.lock:
            info["seq"] = len(self.index) + 1
            info["line"] = None
            if body is not None:
                self.lines += 1
                info["line"] = self.lines
                with open(self.jsonl, "ab") as f:
                    f.write(body + b"\n")
            self.index.append(info)
            tmp = os.path.join(self.out, "index.json.tmp")
            with open(tmp, "w") as f:
                json.dump(self.index, f, indent=2)
            os.replace(tmp, os.path.join(self.out, "index.json"))


class Handler(fakeserver.QuietHandler):
    store = None

    def _raw(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
            return raw
        return b""

    def _info(self, method, wire, size):
        h = self.headers
        auth = h.get("Authorization") or ""
        return {
            "method": method,
            "path": self.path,
            "content_type": h.get("Content-Type"),
            "content_encoding": h.get("Content-Encoding"),
            "user_agent": h.get("User-Agent"),
            "authorization": auth.split(" ")[0] if auth else None,
            "x_langfuse_sdk_name": h.get("x_langfuse_sdk_name") or h.get("x-langfuse-sdk-name"),
            "x_langfuse_sdk_version": h.get("x_langfuse_sdk_version") or h.get("x-langfuse-sdk-version"),
            "size": size,
            "wire_size": wire,
        }

    def _json(self, code, obj):
        self.send_body(code, json.dumps(obj).encode(), "application/json")

    def do_POST(self):
        raw = self._raw()
        enc = (self.headers.get("Content-Encoding") or "").lower()
        body = gzip.decompress(raw) if enc == "gzip" else zlib.decompress(raw) if enc == "deflate" else raw
        path = self.path.split("?")[0].rstrip("/")
        info = self._info("POST", len(raw), len(body))
        if path.endswith("/api/public/ingestion"):
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not isinstance(doc.get("batch"), list):
                self.store.add(info)
                return self._json(400, {"message": "Invalid request data"})
            line = body  # one line already (the SDK's json.dumps): stored as received
            if b"\n" in body or b"\r" in body:  # not one line: the same JSON, compact
                line = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
            batch = doc["batch"]
            info["batch_size"] = len(batch)
            info["event_types"] = [e.get("type") for e in batch]
            self.store.add(info, line)
            return self._json(207, {"successes": [{"id": e.get("id"), "status": 201} for e in batch], "errors": []})
        self.store.add(info)
        if path.endswith("/api/public/media"):
            return self._json(200, {"mediaId": "fake-media-id", "uploadUrl": None})
        return self._json(404, {"message": "not found"})

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        self.store.add(self._info("GET", 0, 0))
        if path.endswith("/api/public/health"):
            return self._json(200, {"status": "OK", "version": "2.95.0"})
        if path.endswith("/api/public/projects"):
            return self._json(200, PROJECT)
        return self._json(404, {"message": "not found"})


def make_server(out, port=0):
    return fakeserver.make_server(Handler, "BoundLangfuseReceiver", port, store=Store(out))


def main():
    fakeserver.serve_main(make_server, "Langfuse ingestion receiver on http://127.0.0.1:%d", arg="--out")


if __name__ == "__main__":
    main()

"""Plumbing shared by the stdlib-only HTTP servers the generators start as child
processes (llm/fake_openai.py, anthropic/fake_anthropic.py, gemini/fake_gemini.py,
llm/receiver.py): the request ledger, a quiet HTTP/1.1 handler with JSON / SSE
response helpers, the ThreadingHTTPServer setup and the command line
(--port, --port-file; the port file is written atomically once the port is bound).
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Ledger:
    """What a fake server sent, one entry a request, rewritten to `path` (JSON) after each."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.entries = []
        self.counter = 0

    def next_no(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def add(self, entry):
        with self.lock:
            self.entries.append(entry)
            self.entries.sort(key=lambda e: e["request_no"])
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.entries, f, indent=2)
            os.replace(tmp, self.path)


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def app_fields(self):
        """Ledger fields from the request headers: the X-* headers the harness sets (scenario,
        trace name, session, user, X-App-Traceparent) and the instrumentation's traceparent."""
        h = self.headers
        return {
            "scenario": h.get("X-Scenario"),
            "trace_name": h.get("X-Trace-Name"),
            "session_id": h.get("X-Session-Id"),
            "user_id": h.get("X-User-Id"),
            "traceparent": h.get("traceparent"),
            "app_traceparent": h.get("X-App-Traceparent"),
        }

    def read_json(self):
        """The request body as JSON ({} when empty or not JSON)."""
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def send_body(self, code, body, content_type, headers=()):
        """One complete response: Content-Type, Content-Length, then `headers` (name, value) in order."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self, content_type, headers=()):
        """A 200 event-stream response, closed when the handler returns."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True

    def write_event(self, data):
        """One server-sent event (bytes, framing included), flushed at once."""
        self.wfile.write(data)
        self.wfile.flush()


def make_server(handler, name, port=0, **attrs):
    """A ThreadingHTTPServer on 127.0.0.1 serving a subclass `name` of handler with attrs set."""
    srv = ThreadingHTTPServer(("127.0.0.1", port), type(name, (handler,), attrs))
    srv.daemon_threads = True
    return srv


def write_port_file(path, port):
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(path + ".tmp", path)


def serve_main(make, banner, arg="--ledger"):
    """Command line of a server: ARG PATH (required) [--port N] [--port-file F].

    make(path, port) builds the server; banner % port goes to stderr once it is bound.
    """
    ap = argparse.ArgumentParser()
    ap.add_argument(arg, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    srv = make(getattr(a, arg.lstrip("-").replace("-", "_")), a.port)
    port = srv.server_address[1]
    if a.port_file:
        write_port_file(a.port_file, port)
    print(banner % port, file=sys.stderr, flush=True)
    srv.serve_forever()

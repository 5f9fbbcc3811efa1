"""What every suite's driver (llm/run.py, anthropic/run.py, gemini/run_gemini.py,
agents/run.py, aisdk/run.py, litellm/run_litellm*.py) does the same way.

* child processes: the fake provider(s) and llm/receiver.py, on random 127.0.0.1
  ports announced through port files (Children);
* the app side for SDKs that take our TracerProvider: seeded trace/span ids
  (SeededIds), the resource, the OTLP/HTTP provider (otel_provider), the scenario
  Harness and the root-span context managers;
* the output: clearing the dump folder, writing truth.json, moving the receiver's
  index.json beside it, the package versions and the size listing.

The OpenTelemetry imports are lazy: aisdk/run.py runs this with any python3.
"""
import argparse
import contextlib
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

GENERATE = os.path.dirname(os.path.abspath(__file__))
LLM = os.path.join(GENERATE, "llm")  # fake_openai.py, receiver.py
FAKE_OPENAI = os.path.join(LLM, "fake_openai.py")
FAKE_ANTHROPIC = os.path.join(GENERATE, "anthropic", "fake_anthropic.py")
RECEIVER = os.path.join(LLM, "receiver.py")
TESTDATA = os.path.abspath(os.path.join(GENERATE, ".."))


# --------------------------------------------------------------------------- child processes


def wait_port_file(path, proc, timeout=20):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path):
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("child exited early: %r" % (proc.args,))
        time.sleep(0.05)
    raise RuntimeError("timeout waiting for " + path)


class Children:
    """Child processes that write their port to <tmp>/<name>.port; stopped in start order."""

    def __init__(self, prefix, port_timeout=20):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.port_timeout = port_timeout
        self.procs = {}

    def start(self, name, argv, port_file=True, **popen_kw):
        """Run argv (a list; a .py first item runs with this python); returns the Popen."""
        if argv[0].endswith(".py"):
            argv = [sys.executable] + list(argv)
        if port_file:
            argv = list(argv) + ["--port-file", self.port_file(name)]
        p = subprocess.Popen(argv, **popen_kw)
        self.procs[name] = p
        return p

    def port_file(self, name):
        return os.path.join(self.tmp, name + ".port")

    def fake(self, name, script, ledger="ledger.json"):
        """Start a fake provider server; returns its ledger path."""
        path = os.path.join(self.tmp, ledger)
        self.start(name, [script, "--ledger", path])
        return path

    def receiver(self, out, name="rcv"):
        self.start(name, [RECEIVER, "--out", out])

    def port(self, name):
        return wait_port_file(self.port_file(name), self.procs[name], self.port_timeout)

    def url(self, name, suffix=""):
        return "http://127.0.0.1:%d%s" % (self.port(name), suffix)

    def stop(self, timeout=None):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()


@contextlib.contextmanager
def children(prefix, port_timeout=20, stop_timeout=None):
    c = Children(prefix, port_timeout)
    try:
        yield c
    finally:
        c.stop(stop_timeout)


# --------------------------------------------------------------------------- app side (OpenTelemetry SDK)


class SeededIds:
    """Deterministic trace/span ids for the SDKs that take our TracerProvider."""

    def __init__(self, seed):
        from opentelemetry.sdk.trace.id_generator import IdGenerator

        rnd = random.Random(seed)

        class _G(IdGenerator):
            def generate_span_id(self):
                return rnd.getrandbits(64) or 1

            def generate_trace_id(self):
                return rnd.getrandbits(128) or 1

        self.gen = _G()


class Harness:
    def __init__(self, client, trace_cm):
        self.client = client
        self._trace_cm = trace_cm

    def trace(self, name, session_id, user_id):
        return self._trace_cm(name, session_id, user_id)

    def headers(self, scenario, trace_name, session_id, user_id):
        h = {"X-Scenario": scenario, "X-Trace-Name": trace_name}
        if session_id:
            h["X-Session-Id"] = session_id
        if user_id:
            h["X-User-Id"] = user_id
        try:
            from opentelemetry import trace as ot

            sc = ot.get_current_span().get_span_context()
            if sc.is_valid:
                h["X-App-Traceparent"] = "00-%032x-%016x-%02x" % (sc.trace_id, sc.span_id, int(sc.trace_flags))
        except ImportError:
            pass
        return h


def resource(name):
    from opentelemetry.sdk.resources import Resource

    return Resource.create(
        {
            "service.name": name,
            "service.version": "1.0.0",
            "deployment.environment": "test",
            "service.instance.id": name + "-test-1",
        }
    )


def otel_provider(name, endpoint, seed):
    from opentelemetry import trace as ot
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tp = TracerProvider(resource=resource(name), id_generator=SeededIds(seed).gen)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces")))
    ot.set_tracer_provider(tp)
    return tp


def logger_provider(name, endpoint):
    """An OTLP/HTTP LoggerProvider (registered globally) for the SDKs that emit gen_ai events as logs."""
    from opentelemetry import _logs
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    lp = LoggerProvider(resource=resource(name))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint + "/v1/logs")))
    _logs.set_logger_provider(lp)
    return lp


def flush(*providers):
    """Shutdown function: force_flush every provider, then shut every one down."""

    def shutdown():
        for p in providers:
            p.force_flush()
        for p in providers:
            p.shutdown()

    return shutdown


def session_user_attrs(session_id, user_id, attrs=None):
    """session.id / user.id (when set) added to attrs."""
    attrs = dict(attrs or {})
    if session_id:
        attrs["session.id"] = session_id
    if user_id:
        attrs["user.id"] = user_id
    return attrs


def plain_root_span_cm(tracer, session_attrs=True, extra=None, value=None):
    """A user's own root span; session.id / user.id as plain attributes.

    value(session_id), if given, is what the context manager yields."""

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        attrs = session_user_attrs(session_id, user_id, extra) if session_attrs else dict(extra or {})
        with tracer.start_as_current_span(name, attributes=attrs):
            yield value(session_id) if value else None

    return cm


def oi_root_span_cm(tracer, value=None):
    """An OpenInference CHAIN root span, session / user set with using_attributes()."""
    from openinference.instrumentation import using_attributes

    @contextlib.contextmanager
    def cm(name, session_id, user_id):
        kw = {}
        if session_id:
            kw["session_id"] = session_id
        if user_id:
            kw["user_id"] = user_id
        with tracer.start_as_current_span(name, attributes={"openinference.span.kind": "CHAIN"}):
            with using_attributes(**kw):
                yield value(session_id) if value else None

    return cm


def logfire_configure(service_name, otlp):
    """logfire without its backend: our OTLP/HTTP exporter as an extra span processor."""
    import logfire
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    logfire.configure(
        send_to_logfire=False,
        service_name=service_name,
        service_version="1.0.0",
        environment="test",
        console=False,
        metrics=False,
        additional_span_processors=[BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces"))],
    )
    return logfire


# --------------------------------------------------------------------------- scenarios and output


def driver_args(sdks, truth_default):
    """The command line of the scenario drivers: --sdk, --out, --only, --truth-out (callers may add more)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, choices=sorted(sdks))
    ap.add_argument("--out")
    ap.add_argument("--only", help="comma-separated scenario names (default: all)")
    ap.add_argument("--truth-out", help="folder for truth.json and index.json (default: %s)" % truth_default)
    return ap


def run_harness(a, out, expected, prefix, fake, base_path, setup, scenarios, build, after=None):
    """One run of a scenario driver (llm, anthropic, gemini suites).

    Clears `out`, starts `fake` and the receiver, calls setup(base_url, otlp, sdk) ->
    (harness, shutdown), runs the scenarios() chosen by a.only, then writes
    build(ledger, scenario names) as expected/truth.json, calls after(truth path) and moves
    the receiver's index.json to expected.
    """
    clear_dir(out)
    with children(prefix) as c:
        ledger = c.fake("srv", fake)
        c.receiver(out)
        base_url = c.url("srv", base_path)
        otlp = c.url("rcv")
        all_scenarios = scenarios()
        harness, shutdown = setup(base_url, otlp, a.sdk)
        chosen = choose(all_scenarios, a.only)
        run_scenarios(chosen, harness)
        shutdown()
        time.sleep(1.0)
        tpath = write_truth(expected, build(load_ledger(ledger), [f.__name__ for f in chosen]))
        if after:
            after(tpath)
        move_index(out, expected)
    print_sizes(out)


def choose(all_scenarios, only):
    """The scenarios whose name contains one of the comma-separated names in `only` (all if empty)."""
    if not only:
        return list(all_scenarios)
    names = only.split(",")
    return [f for f in all_scenarios if any(n in f.__name__ for n in names)]


def run_scenarios(chosen, harness):
    for fn in chosen:
        print("scenario", fn.__name__, file=sys.stderr, flush=True)
        fn(harness)


def versions(packages):
    """Installed versions of those packages that are installed, and python's."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in packages:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    out["python"] = sys.version.split()[0]
    return out


def clear_dir(out, keep=("NOTES.md",)):
    """Create the dump folder, or empty it of everything but `keep`."""
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        if os.path.basename(f) not in keep:
            os.remove(f)


def load_ledger(path):
    return json.load(open(path)) if os.path.exists(path) else []


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_truth(expected, truth):
    """expected/truth.json; returns its path."""
    os.makedirs(expected, exist_ok=True)
    path = os.path.join(expected, "truth.json")
    write_json(path, truth)
    return path


def move_index(out, expected):
    """The receiver's index.json goes beside truth.json, so that the dump folder holds only what was exported."""
    if os.path.exists(os.path.join(out, "index.json")):
        os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))


def print_sizes(out):
    for f in sorted(os.listdir(out)):
        p = os.path.join(out, f)
        if os.path.isfile(p):
            print("%8d %s" % (os.path.getsize(p), f), file=sys.stderr)

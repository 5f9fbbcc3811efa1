#!/usr/bin/env python3
"""Drive the Vercel AI SDK app (app.mjs) for one SDK version and capture its export.

  python3 testdata/generate/aisdk/run.py --sdk aisdk4|aisdk7|aisdk7-full [--out DIR] [--only a,b]

Starts ../llm/fake_openai.py and ../llm/receiver.py as child processes on random
127.0.0.1 ports (stdlib only, any python3), runs `node app.mjs` from the SDK's node
folder /tmp/llm-node/aisdk4|aisdk7 (see run_all.sh), then writes
  testdata/llm/<sdk>/traces-NNN.pb             (raw OTLP/HTTP protobuf bodies)
  testdata/expected/llm/<sdk>/index.json       (receiver's log of the POSTs)
  testdata/expected/llm/<sdk>/truth.json       (from the fake server's ledger only)
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LLM = os.path.join(HERE, "..", "llm")
TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
NODE_ROOT = os.environ.get("LLM_NODE", "/tmp/llm-node")
sys.path.insert(0, HERE)

import truth_aisdk  # noqa: E402

SDKS = {
    # name: (ai major, node folder under /tmp/llm-node, node binary relative to it or None for the
    #        system node, extra env)
    "aisdk4": (4, "aisdk4", None, {}),
    # @ai-sdk/otel OpenTelemetry({runtimeContext: true}): the options needed for session/user
    "aisdk7": (7, "aisdk7", "node_modules/.bin/node", {"AISDK_OTEL_OPTIONS": json.dumps({"runtimeContext": True})}),
    # same packages, every usage-related supplemental attribute switched on as well
    "aisdk7-full": (
        7,
        "aisdk7",
        "node_modules/.bin/node",
        {"AISDK_OTEL_OPTIONS": json.dumps({"runtimeContext": True, "usage": True, "providerMetadata": True})},
    ),
}
PACKAGES = [
    "ai",
    "@ai-sdk/openai",
    "@ai-sdk/otel",
    "@ai-sdk/provider",
    "@ai-sdk/provider-utils",
    "zod",
    "@opentelemetry/api",
    "@opentelemetry/sdk-trace-node",
    "@opentelemetry/sdk-trace-base",
    "@opentelemetry/exporter-trace-otlp-proto",
    "@opentelemetry/resources",
    "@opentelemetry/core",
]


def wait_port_file(path, proc, timeout=20):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path):
            return int(open(path).read())
        if proc.poll() is not None:
            raise RuntimeError("child exited early")
        time.sleep(0.05)
    raise RuntimeError("timeout waiting for " + path)


def versions(node_dir, node):
    out = {}
    for p in PACKAGES:
        pj = os.path.join(node_dir, "node_modules", p, "package.json")
        if os.path.exists(pj):
            out[p] = json.load(open(pj))["version"]
    out["node"] = subprocess.check_output([node, "--version"], text=True).strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, choices=sorted(SDKS))
    ap.add_argument("--out")
    ap.add_argument("--only", help="comma-separated scenario names (default: all)")
    a = ap.parse_args()
    major, node_folder, node_rel, extra_env = SDKS[a.sdk]
    node_dir = os.path.join(NODE_ROOT, node_folder)
    node = os.path.join(node_dir, node_rel) if node_rel else "node"
    out = os.path.abspath(a.out or os.path.join(TESTDATA, a.sdk))
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, "*")):
        if os.path.basename(f) != "NOTES.md":
            os.remove(f)
    tmp = tempfile.mkdtemp(prefix="llm-aisdk-")
    ledger = os.path.join(tmp, "ledger.json")
    py = sys.executable
    srv = subprocess.Popen([py, os.path.join(LLM, "fake_openai.py"), "--ledger", ledger, "--port-file", tmp + "/srv.port"])
    rcv = subprocess.Popen([py, os.path.join(LLM, "receiver.py"), "--out", out, "--port-file", tmp + "/rcv.port"])
    try:
        base_url = "http://127.0.0.1:%d/v1" % wait_port_file(tmp + "/srv.port", srv)
        otlp = "http://127.0.0.1:%d" % wait_port_file(tmp + "/rcv.port", rcv)
        env = dict(os.environ)
        env.update(extra_env)
        env.update(
            AISDK_MAJOR=str(major),
            AISDK_NODE_DIR=node_dir,
            AISDK_NAME=a.sdk,
            FAKE_BASE_URL=base_url,
            OTLP_ENDPOINT=otlp,
            OTEL_BSP_SCHEDULE_DELAY="200",
        )
        cmd = [node, os.path.join(HERE, "app.mjs")] + ([a.only] if a.only else [])
        p = subprocess.run(cmd, env=env, timeout=300)
        if p.returncode != 0:
            raise SystemExit("app.mjs failed with exit code %d" % p.returncode)
        time.sleep(1.0)
        led = json.load(open(ledger)) if os.path.exists(ledger) else []
        scen = sorted({e.get("scenario") for e in led if e.get("scenario")})
        extra = {
            "versions": versions(node_dir, node),
            "scenarios_run": scen,
            "otel_integration_options": json.loads(extra_env.get("AISDK_OTEL_OPTIONS", "null")),
        }
        expected = os.path.join(os.path.dirname(TESTDATA), "expected", "llm", a.sdk)
        os.makedirs(expected, exist_ok=True)
        defects_file = os.path.join(HERE, "known_sdk_defects-%s.json" % a.sdk)
        extra["known_sdk_defects"] = json.load(open(defects_file)) if os.path.exists(defects_file) else []
        with open(os.path.join(expected, "truth.json"), "w") as f:
            json.dump(truth_aisdk.build(led, a.sdk, extra), f, indent=2)
            f.write("\n")
        if os.path.exists(os.path.join(out, "index.json")):
            os.replace(os.path.join(out, "index.json"), os.path.join(expected, "index.json"))
    finally:
        srv.terminate()
        rcv.terminate()
        srv.wait()
        rcv.wait()
    for f in sorted(os.listdir(out)):
        print("%8d %s" % (os.path.getsize(os.path.join(out, f)), f), file=sys.stderr)


if __name__ == "__main__":
    main()

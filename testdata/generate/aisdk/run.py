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
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.abspath(os.path.join(HERE, "..", "..", "llm"))
NODE_ROOT = os.environ.get("LLM_NODE", "/tmp/llm-node")
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py)
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
    ap.add_argument("--truth-out", help="folder for truth.json and index.json (default: testdata/expected/llm/<sdk>)")
    a = ap.parse_args()
    major, node_folder, node_rel, extra_env = SDKS[a.sdk]
    node_dir = os.path.join(NODE_ROOT, node_folder)
    node = os.path.join(node_dir, node_rel) if node_rel else "node"
    out = os.path.abspath(a.out or os.path.join(TESTDATA, a.sdk))
    common.clear_dir(out)
    with common.children("llm-aisdk-") as c:
        ledger = c.fake("srv", common.FAKE_OPENAI)
        c.receiver(out)
        base_url = c.url("srv", "/v1")
        otlp = c.url("rcv")
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
        led = common.load_ledger(ledger)
        scen = sorted({e.get("scenario") for e in led if e.get("scenario")})
        extra = {
            "versions": versions(node_dir, node),
            "scenarios_run": scen,
            "otel_integration_options": json.loads(extra_env.get("AISDK_OTEL_OPTIONS", "null")),
        }
        expected = a.truth_out or os.path.join(os.path.dirname(TESTDATA), "expected", "llm", a.sdk)
        defects_file = os.path.join(HERE, "known_sdk_defects-%s.json" % a.sdk)
        extra["known_sdk_defects"] = json.load(open(defects_file)) if os.path.exists(defects_file) else []
        common.write_truth(expected, truth_aisdk.build(led, a.sdk, extra))
        common.move_index(out, expected)
    common.print_sizes(out)


if __name__ == "__main__":
    main()

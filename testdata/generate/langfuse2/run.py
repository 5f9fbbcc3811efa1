#!/usr/bin/env python3
"""Run app.py's scenarios with the real Langfuse Python SDK 2.x and capture what it posts.

  /tmp/llm-venvs/langfuse2/bin/python run.py [--out DIR] [--truth-out DIR] [--only a,b]

Starts fake_openai_assistants.py (the OpenAI side, with its ledger) and
receiver_langfuse.py (the Langfuse ingestion API) as child processes on random
127.0.0.1 ports, points the SDK at the receiver (LANGFUSE_HOST, fake keys, small
flush_at / flush_interval), runs the scenarios, flushes and shuts the SDK down, and writes
  <out>/ingestion.jsonl          (default testdata/llm/langfuse2/): one ingestion request body a line
  <truth-out>/truth.json         (default testdata/expected/llm/langfuse2/): from the ledger + the
                                 numbers of the manual generations (truth_langfuse2.py)
  <truth-out>/index.json         the receiver's log of every request
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import common  # noqa: E402  (../common.py)
import truth_langfuse2  # noqa: E402

PACKAGES = ["langfuse", "openai", "httpx", "pydantic", "backoff"]
FLUSH_AT = 4
FLUSH_INTERVAL = 0.2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(common.TESTDATA, "llm", "langfuse2"))
    ap.add_argument("--truth-out", default=os.path.join(common.TESTDATA, "expected", "llm", "langfuse2"))
    ap.add_argument("--only", help="comma-separated scenario names or letters (default: all)")
    a = ap.parse_args()
    out, expected = os.path.abspath(a.out), os.path.abspath(a.truth_out)
    common.clear_dir(out)
    with common.children("langfuse2-run-") as c:
        ledger = c.fake("srv", os.path.join(HERE, "fake_openai_assistants.py"))
        c.start("rcv", [os.path.join(HERE, "receiver_langfuse.py"), "--out", out])
        base_url, host = c.url("srv", "/v1"), c.url("rcv")
        os.environ.update(
            LANGFUSE_HOST=host,
            LANGFUSE_PUBLIC_KEY="pk-lf-00000000-0000-0000-0000-000000000000",
            LANGFUSE_SECRET_KEY="sk-lf-00000000-0000-0000-0000-000000000000",
            LANGFUSE_FLUSH_AT=str(FLUSH_AT),
            LANGFUSE_FLUSH_INTERVAL=str(FLUSH_INTERVAL),
            LANGFUSE_RELEASE="1.0.0",
            LANGFUSE_TRACING_ENVIRONMENT="test",
        )
        from langfuse.decorators import langfuse_context

        import app as app_mod

        # One client for everything: the decorators, langfuse.openai and the low-level calls all
        # use this singleton (so one queue, one consumer thread, batches in order).
        langfuse_context.configure(flush_at=FLUSH_AT, flush_interval=FLUSH_INTERVAL, max_retries=1)
        lf = langfuse_context.client_instance
        if not lf.auth_check():  # GET /api/public/projects
            raise SystemExit("auth_check failed")
        app = app_mod.App(base_url)
        chosen = common.choose(app_mod.ALL, a.only)
        for fn in chosen:
            print("scenario", fn.__name__, file=sys.stderr, flush=True)
            fn(app, lf)
            time.sleep(FLUSH_INTERVAL * 2)
        langfuse_context.flush()
        lf.shutdown()
        time.sleep(0.5)
        truth = truth_langfuse2.build(
            common.load_ledger(ledger), app.calls, app.manual,
            {"versions": common.versions(PACKAGES), "scenarios_run": [f.__name__ for f in chosen],
             "langfuse_settings": {"flush_at": FLUSH_AT, "flush_interval": FLUSH_INTERVAL, "threads": 1,
                                   "environment": "test", "release": "1.0.0"}})
        common.write_truth(expected, truth)
        common.move_index(out, expected)
    common.print_sizes(out)
    print(json.dumps(truth["totals"]), file=sys.stderr)


if __name__ == "__main__":
    main()

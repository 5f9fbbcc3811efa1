"""The langfuse 2.x SDK's own client (ingestion batches to LANGFUSE_HOST), as an app
that uses it without OpenTelemetry: TRACES traces with one generation each, whose usage
it writes to LEDGER: {trace_id: {"input": i, "output": o}}.

    python langfuse2_app.py LEDGER
"""
import json
import sys

from langfuse import Langfuse

lf = Langfuse(flush_at=2, flush_interval=0.2)
ledger = {}
for t in range(3):
    tid = f"{t + 1:032x}"
    trace = lf.trace(id=tid, name=f"lf-job-{t}", session_id="lf-session", user_id="lf-user")
    inp, out = 300 + t, 30 + t
    gen = trace.generation(name="chat", model="gpt-4o-mini", input=[{"role": "user", "content": f"q{t}"}])
    gen.end(output="a", usage={"input": inp, "output": out, "unit": "TOKENS"})
    ledger[tid] = {"input": inp, "output": out}
lf.flush()
lf.shutdown()
with open(sys.argv[1], "w") as f:
    json.dump(ledger, f)

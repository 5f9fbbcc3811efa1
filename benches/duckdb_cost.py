"""The peer: DuckDB computing tokens per session (or model) from the same input.

    python3 duckdb_cost.py dump DUMP.jsonl        # OTLP JSON lines, read_json + unnest
    python3 duckdb_cost.py store STORE session|model|user|day   # the store's Parquet segments
    python3 duckdb_cost.py list STORE                  # the 5 latest traces, as list shows them
    python3 duckdb_cost.py trace STORE TRACE_ID        # one trace's spans, as show reads them
Prints {"key": [input_tokens, output_tokens], ...} as JSON (for `trace`: the trace id and
its span count).
"""
import json
import sys

import duckdb

con = duckdb.connect()
con.execute("SET preserve_insertion_order = false")
if sys.argv[1] == "dump":
    rows = con.execute(
        """
        WITH r AS (SELECT unnest(resourceSpans) AS rs
                   FROM read_json(?, format = 'newline_delimited', maximum_object_size = 1073741824)),
             ss AS (SELECT unnest(rs.scopeSpans) AS ss FROM r),
             s AS (SELECT unnest(ss.spans) AS sp FROM ss),
             a AS (SELECT list_filter(sp.attributes, x -> x.key = 'session.id')[1].value.stringValue AS session,
                          list_filter(sp.attributes, x -> x.key IN ('llm.token_count.prompt', 'gen_ai.usage.input_tokens'))[1].value.intValue AS inp,
                          list_filter(sp.attributes, x -> x.key IN ('llm.token_count.completion', 'gen_ai.usage.output_tokens'))[1].value.intValue AS outp
                   FROM s)
        SELECT session, sum(CAST(inp AS BIGINT)), sum(CAST(outp AS BIGINT)) FROM a WHERE inp IS NOT NULL GROUP BY session
        """,
        [sys.argv[2]],
    ).fetchall()
elif sys.argv[1] == "list":
    # `traces list --limit 5`: the latest traces by start, from the spans.
    rows = con.execute(
        f"SELECT trace_id, min(start_time_unix_nano) AS s FROM '{sys.argv[2]}/spans/**/*.parquet' "
        "GROUP BY trace_id ORDER BY s DESC, trace_id LIMIT 5"
    ).fetchall()
    print(json.dumps([t for t, _ in rows]))
    sys.exit(0)
elif sys.argv[1] == "trace":
    rows = con.execute(
        f"SELECT * FROM '{sys.argv[2]}/spans/**/*.parquet' WHERE trace_id = ?", [sys.argv[3]]
    ).fetchall()
    print(json.dumps({sys.argv[3]: len(rows)}))
    sys.exit(0)
else:
    key = {
        "session": "session_id",
        "user": "user_id",
        "model": "coalesce(response_model, request_model)",
        "day": "CAST(CAST(to_timestamp(start_time_unix_nano // 1000000000) AS DATE) AS VARCHAR)",
    }[sys.argv[3]]
    rows = con.execute(
        f"SELECT {key}, sum(input_tokens), sum(output_tokens) FROM '{sys.argv[2]}/spans/**/*.parquet' "
        "WHERE input_tokens IS NOT NULL AND span_type = 'llm' GROUP BY 1"
    ).fetchall()
print(json.dumps({k: [int(i), int(o)] for k, i, o in rows}))

#!/usr/bin/env python3
"""A tiny fake OpenAI-compatible HTTP server (stdlib only) with a usage ledger.

Endpoints:
  POST /v1/chat/completions   chat completions (plain, tools, json_schema, streaming)
  POST /v1/responses          Responses API (plain, function tool, previous_response_id)

Every request k (1-based, counted over both endpoints, including errors) gets
a distinct usage:
  prompt/input tokens      = 1000 + 17*k
  completion/output tokens = 50 + 3*k
  cached tokens            = 256 if k % 3 == 0 else 0
  reasoning tokens         = 32  if k % 4 == 0 else 0
  total                    = prompt + completion
A user message containing TRIGGER_ERROR gets HTTP 400 (no usage).

Each request is appended to a JSON ledger (rewritten after every request):
request_no, endpoint, requested model, returned model, usage as sent (null when
none was sent), the X-Scenario / X-Session-Id / X-User-Id / X-Trace-Name headers
set by the app, the W3C `traceparent` header if the instrumentation sent one,
and `X-App-Traceparent` (the app's own current span context, injected by
scenarios.py so that calls can be mapped to trace ids).

Run standalone:  python fake_openai.py --ledger ledger.json [--port-file F]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fakeserver  # noqa: E402  (../fakeserver.py)

SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
}
CREATED = 1767225600  # fixed timestamp (2026-01-01T00:00:00Z)


def snapshot(model):
    if model in SNAPSHOTS:
        return SNAPSHOTS[model]
    return model


def usage_numbers(k):
    prompt = 1000 + 17 * k
    completion = 50 + 3 * k
    cached = 256 if k % 3 == 0 else 0
    reasoning = 32 if k % 4 == 0 else 0
    return prompt, cached, completion, reasoning, prompt + completion


def chat_usage(k):
    p, c, o, r, t = usage_numbers(k)
    return {
        "prompt_tokens": p,
        "completion_tokens": o,
        "total_tokens": t,
        "prompt_tokens_details": {"cached_tokens": c, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": r,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def responses_usage(k):
    p, c, o, r, t = usage_numbers(k)
    return {
        "input_tokens": p,
        "input_tokens_details": {"cached_tokens": c},
        "output_tokens": o,
        "output_tokens_details": {"reasoning_tokens": r},
        "total_tokens": t,
    }


def text_of(content):
    """Flatten chat/responses message content to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for part in content:
        if isinstance(part, dict):
            out.append(str(part.get("text", "")))
    return " ".join(out)


def fake_value(schema):
    t = schema.get("type")
    if t == "object":
        return {k: fake_value(v) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        return [fake_value(schema.get("items", {"type": "string"}))]
    if t == "integer":
        return 18
    if t == "number":
        return 18.5
    if t == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return "Paris"


class Handler(fakeserver.QuietHandler):
    ledger = None  # set by make_server

    def _send_json(self, code, obj, extra_headers=None):
        headers = [("x-request-id", "req_fake_%d" % getattr(self, "_k", 0))] + list((extra_headers or {}).items())
        self.send_body(code, json.dumps(obj).encode(), "application/json", headers)

    def _entry(self, k, endpoint, req):
        return {
            "request_no": k,
            "endpoint": endpoint,
            **self.app_fields(),
            "requested_model": req.get("model"),
            "stream": bool(req.get("stream")),
            "include_usage": bool((req.get("stream_options") or {}).get("include_usage")),
            "time": time.time(),
        }

    def do_GET(self):
        self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        req = self.read_json()
        path = self.path.split("?")[0].rstrip("/")
        k = self.ledger.next_no()
        self._k = k
        if path.endswith("/chat/completions"):
            self.api_chat(k, req)
        elif path.endswith("/responses"):
            self.api_responses(k, req)
        else:
            entry = self._entry(k, path, req)
            entry.update(status=404, model=None, usage=None)
            self.ledger.add(entry)
            self._send_json(404, {"error": {"message": "unknown path " + path, "type": "invalid_request_error"}})

    # ---------------------------------------------------------------- errors
    def maybe_error(self, k, endpoint, req, texts):
        if any("TRIGGER_ERROR" in t for t in texts):
            entry = self._entry(k, endpoint, req)
            entry.update(status=400, model=None, usage=None, response_id=None, finish_reason=None)
            self.ledger.add(entry)
            self._send_json(
                400,
                {
                    "error": {
                        "message": "Invalid request: the prompt contains TRIGGER_ERROR (fake server).",
                        "type": "invalid_request_error",
                        "param": "messages",
                        "code": "trigger_error",
                    }
                },
            )
            return True
        return False

    # ------------------------------------------------------------------ chat
    def api_chat(self, k, req):
        endpoint = "chat.completions"
        messages = req.get("messages") or []
        user_texts = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        if self.maybe_error(k, endpoint, req, user_texts):
            return
        model = snapshot(req.get("model", "gpt-4o-mini"))
        cid = "chatcmpl-fake%06d" % k
        last = messages[-1] if messages else {}
        tool_calls = None
        finish = "stop"
        rf = req.get("response_format") or {}
        if req.get("tools") and last.get("role") == "user":
            tool_calls = [
                {
                    "id": "call_fake%06d" % k,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "celsius"})},
                }
            ]
            content = None
            finish = "tool_calls"
        elif last.get("role") == "tool":
            content = "It is 18 degrees Celsius and sunny in Paris (reply %d)." % k
        elif rf.get("type") == "json_schema":
            schema = (rf.get("json_schema") or {}).get("schema") or {"type": "object", "properties": {}}
            content = json.dumps(fake_value(schema))
        else:
            content = "This is fake reply number %d to: %s" % (k, (user_texts[-1] if user_texts else "")[:60])
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        usage = chat_usage(k)
        entry = self._entry(k, endpoint, req)
        entry.update(status=200, model=model, response_id=cid, finish_reason=finish)
        if req.get("stream"):
            entry["usage"] = usage if include_usage else None
            self.ledger.add(entry)
            self.stream_chat(cid, model, content, tool_calls, finish, usage if include_usage else None)
            return
        entry["usage"] = usage
        self.ledger.add(entry)
        msg = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
        if tool_calls:
            msg["tool_calls"] = tool_calls
        self._send_json(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": CREATED + k,
                "model": model,
                "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
            },
        )

    def stream_chat(self, cid, model, content, tool_calls, finish, usage):
        self.start_stream("text/event-stream", [("Cache-Control", "no-cache"), ("Connection", "close"),
                                                ("x-request-id", "req_fake_%d" % self._k)])

        def chunk(delta, finish_reason=None, with_choice=True, usage_obj=None):
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": CREATED + self._k,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
                if with_choice
                else [],
            }
            if usage is not None:
                obj["usage"] = usage_obj  # null on the content chunks, like OpenAI
            self.write_event(b"data: " + json.dumps(obj).encode() + b"\n\n")

        chunk({"role": "assistant", "content": "", "refusal": None})
        if content:
            words = content.split(" ")
            for i, w in enumerate(words):
                chunk({"content": w if i == 0 else " " + w})
        if tool_calls:  # added for the aisdk suite (streamText with tools); like OpenAI: id+name, then arguments
            for i, tc in enumerate(tool_calls):
                head = {"index": i, "id": tc["id"], "type": "function",
                        "function": {"name": tc["function"]["name"], "arguments": ""}}
                chunk({"tool_calls": [head]})
                chunk({"tool_calls": [{"index": i, "function": {"arguments": tc["function"]["arguments"]}}]})
        chunk({}, finish_reason=finish)
        if usage is not None:
            chunk(None, with_choice=False, usage_obj=usage)
        self.write_event(b"data: [DONE]\n\n")

    # ------------------------------------------------------------- responses
    def api_responses(self, k, req):
        endpoint = "responses"
        inp = req.get("input")
        items = [{"role": "user", "content": inp}] if isinstance(inp, str) else (inp or [])
        user_texts = [text_of(i.get("content")) for i in items if isinstance(i, dict) and i.get("role") == "user"]
        if self.maybe_error(k, endpoint, req, user_texts):
            return
        model = snapshot(req.get("model", "gpt-4o-mini"))
        rid = "resp_fake%06d" % k
        has_output = any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items)
        if req.get("tools") and not has_output:
            output = [
                {
                    "type": "function_call",
                    "id": "fc_fake%06d" % k,
                    "call_id": "call_fake%06d" % k,
                    "name": "get_weather",
                    "arguments": json.dumps({"city": "Paris", "unit": "celsius"}),
                    "status": "completed",
                }
            ]
        else:
            text = "This is fake response number %d." % k
            if has_output:
                text = "It is 18 degrees Celsius and sunny in Paris (response %d)." % k
            output = [
                {
                    "type": "message",
                    "id": "msg_fake%06d" % k,
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
                }
            ]
        usage = responses_usage(k)
        entry = self._entry(k, endpoint, req)
        entry.update(
            status=200,
            model=model,
            response_id=rid,
            previous_response_id=req.get("previous_response_id"),
            usage=usage,
            finish_reason=output[0]["type"],
        )
        self.ledger.add(entry)
        self._send_json(
            200,
            {
                "id": rid,
                "object": "response",
                "created_at": CREATED + k,
                "status": "completed",
                "background": False,
                "error": None,
                "incomplete_details": None,
                "instructions": req.get("instructions"),
                "max_output_tokens": req.get("max_output_tokens"),
                "model": model,
                "output": output,
                "parallel_tool_calls": True,
                "previous_response_id": req.get("previous_response_id"),
                "reasoning": {"effort": None, "summary": None},
                "service_tier": "default",
                "store": True,
                "temperature": 1.0,
                "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": "auto",
                "tools": req.get("tools") or [],
                "top_p": 1.0,
                "truncation": "disabled",
                "usage": usage,
                "user": None,
                "metadata": {},
            },
        )


def make_server(ledger_path, port=0):
    return fakeserver.make_server(Handler, "BoundHandler", port, ledger=fakeserver.Ledger(ledger_path))


def main():
    fakeserver.serve_main(make_server, "fake openai on http://127.0.0.1:%d/v1")


if __name__ == "__main__":
    main()

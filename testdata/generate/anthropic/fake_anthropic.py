#!/usr/bin/env python3
"""A tiny fake Anthropic Messages API server (stdlib only) with a usage ledger.

Endpoint:
  POST /v1/messages    (also any path ending in /messages, e.g. LiteLLM's proxies)

Shaped like the real Anthropic Messages API (checked against the types of the
`anthropic` 2.15 Python SDK: Usage, MessageDeltaUsage, CacheCreation,
OutputTokensDetails, Raw*Event):
  * non-streaming: a `message` object with `usage` {input_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, cache_creation
    {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}, output_tokens,
    service_tier[, output_tokens_details {thinking_tokens}]};
  * `stream: true`: SSE `message_start` (usage with the input side and a
    PROVISIONAL output_tokens = 4), `content_block_start` / `ping` /
    `content_block_delta` / `content_block_stop` per block, `message_delta`
    (stop_reason + the FINAL cumulative usage: input_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, output_tokens
    [, output_tokens_details]), `message_stop`;
  * `tools` + last message from the user -> a text block and a `tool_use`
    block for the first tool, stop_reason "tool_use"; a `tool_result` turn is
    answered with text;
  * `thinking: {"type": "enabled", ...}` -> a `thinking` block with a
    `signature` before the text; the thinking tokens are part of
    output_tokens and are also sent as output_tokens_details.thinking_tokens;
  * `cache_control` breakpoints (tools -> system -> messages order, ttl "5m"
    (default) or "1h"): a breakpoint whose prefix was written before is a
    cache READ (cache_read_input_tokens = the cumulative size of the longest
    cached prefix), every later breakpoint is a cache WRITE of a new segment,
    counted in cache_creation_input_tokens and in the ttl's bucket of
    cache_creation;
  * a user message containing TRIGGER_ERROR -> HTTP 400 with Anthropic's
    error JSON {"type": "error", "error": {...}, "request_id": ...}, no usage.

Every request k (1-based, errors included) gets distinct numbers:
  input_tokens (uncached part)  = 3000 + 23*k
  output_tokens                 = 70 + 7*k (+ thinking)
  thinking tokens               = 40 + 5*k when thinking is enabled
  a new cache segment at breakpoint i (0-based among the request's breakpoints)
                                = 1500 + 11*k + 100*i  tokens
  a cache read                  = the cumulative size of the prefix written
                                  earlier (so it equals that earlier write)
Models echo a dated snapshot (claude-sonnet-4-5 -> claude-sonnet-4-5-20250929,
claude-haiku-4-5 -> claude-haiku-4-5-20251001, claude-opus-4-5 ->
claude-opus-4-5-20251101, ...). Ids: msg_fakeNNNNNN, toolu_fakeNNNNNN,
request-id header req_fakeNNNNNN.

Ledger (same format as testdata/generate/llm/fake_openai.py, rewritten after
every request): request_no, endpoint ("messages"), scenario, trace_name,
session_id, user_id, traceparent, app_traceparent, requested_model, stream,
include_usage (always true: Anthropic always sends usage), time, status,
model, response_id, finish_reason (stop_reason), usage (the usage of the
message, as a non-streaming response sends it; for a stream: the
message_start usage with the message_delta's final counts, i.e. the real
numbers), plus Anthropic extras: provider, usage_stream_events
({message_start, message_delta} usage objects exactly as streamed, or null),
thinking (bool), cache_breakpoints ([{ttl, key, cached, tokens}]).

Run standalone:  python fake_anthropic.py --ledger ledger.json [--port-file F]
(base_url for the anthropic SDK: http://127.0.0.1:PORT, without /v1)
"""
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fakeserver  # noqa: E402  (../fakeserver.py)

SNAPSHOTS = {
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-opus-4-5": "claude-opus-4-5-20251101",
    "claude-opus-4-6": "claude-opus-4-6-20260205",
    "claude-opus-4-1": "claude-opus-4-1-20250805",
    "claude-sonnet-4": "claude-sonnet-4-20250514",
}
PROVISIONAL_OUTPUT = 4  # output_tokens in message_start (the real API sends a small provisional count)


def snapshot(model):
    model = model or "claude-sonnet-4-5"
    # LiteLLM-style prefixes ("anthropic/claude-...") are not sent to the API, but be lenient
    return SNAPSHOTS.get(model.split("/")[-1], model.split("/")[-1])


def base_numbers(k):
    return 3000 + 23 * k, 70 + 7 * k, 40 + 5 * k  # input (uncached), output (no thinking), thinking


def segment_tokens(k, i):
    return 1500 + 11 * k + 100 * i


def text_of(content):
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for part in content:
        if isinstance(part, dict):
            if part.get("type") == "text":
                out.append(str(part.get("text", "")))
            elif part.get("type") == "tool_result":
                out.append(text_of(part.get("content")))
    return " ".join(out)


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def strip_cc(obj):
    """The block without its cache_control (a prefix is the same whatever its breakpoints)."""
    if isinstance(obj, dict):
        return {k: strip_cc(v) for k, v in obj.items() if k != "cache_control"}
    if isinstance(obj, list):
        return [strip_cc(v) for v in obj]
    return obj


def prompt_blocks(req):
    """The prompt as a flat list of (block, cache_control) in cache order: tools, system, messages."""
    out = []
    for t in req.get("tools") or []:
        out.append(({"tool": strip_cc(t)}, t.get("cache_control") if isinstance(t, dict) else None))
    system = req.get("system")
    if isinstance(system, str):
        out.append(({"system": system}, None))
    elif isinstance(system, list):
        for b in system:
            out.append(({"system": strip_cc(b)}, b.get("cache_control") if isinstance(b, dict) else None))
    for m in req.get("messages") or []:
        content = m.get("content")
        if isinstance(content, str):
            out.append(({"role": m.get("role"), "block": {"type": "text", "text": content}}, None))
        else:
            for b in content or []:
                cc = b.get("cache_control") if isinstance(b, dict) else None
                out.append(({"role": m.get("role"), "block": strip_cc(b)}, cc))
    return out


class Ledger(fakeserver.Ledger):
    def __init__(self, path):
        super().__init__(path)
        self.cache = {}  # prefix key -> cumulative cached tokens

    def caching(self, k, req):
        """(cache_read, write_5m, write_1h, breakpoints) for request k; records the new writes."""
        blocks = prompt_blocks(req)
        bps = []
        h = hashlib.sha256()
        h.update(canon({"model": snapshot(req.get("model"))}).encode())
        for block, cc in blocks:
            h.update(canon(block).encode())
            if isinstance(cc, dict) and cc.get("type") == "ephemeral":
                bps.append({"ttl": cc.get("ttl") or "5m", "key": h.hexdigest()[:16]})
        with self.lock:
            last_hit = -1
            for i, bp in enumerate(bps):
                if bp["key"] in self.cache:
                    last_hit = i
            read = self.cache[bps[last_hit]["key"]] if last_hit >= 0 else 0
            cum, w5, w1 = read, 0, 0
            for i, bp in enumerate(bps):
                if i <= last_hit:
                    bp.update(cached=True, tokens=self.cache.get(bp["key"]))
                    continue
                seg = segment_tokens(k, i)
                cum += seg
                if bp["ttl"] == "1h":
                    w1 += seg
                else:
                    w5 += seg
                self.cache[bp["key"]] = cum
                bp.update(cached=False, tokens=seg)
        return read, w5, w1, bps


class Handler(fakeserver.QuietHandler):
    ledger = None  # set by make_server

    def _headers_common(self):
        return [("request-id", "req_fake%06d" % getattr(self, "_k", 0)),
                ("anthropic-organization-id", "00000000-0000-4000-8000-00000000fake")]

    def _send_json(self, code, obj):
        self.send_body(code, json.dumps(obj).encode(), "application/json", self._headers_common())

    def _entry(self, k, req):
        return {
            "request_no": k,
            "provider": "anthropic",
            "endpoint": "messages",
            **self.app_fields(),
            "requested_model": req.get("model"),
            "stream": bool(req.get("stream")),
            "include_usage": True,
            "time": time.time(),
        }

    def do_GET(self):
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})

    def do_POST(self):
        req = self.read_json()
        path = self.path.split("?")[0].rstrip("/")
        k = self.ledger.next_no()
        self._k = k
        if path.endswith("/messages"):
            self.api_messages(k, req)
        else:
            entry = self._entry(k, req)
            entry.update(endpoint=path, status=404, model=None, usage=None, response_id=None, finish_reason=None)
            self.ledger.add(entry)
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "unknown path " + path},
                                  "request_id": "req_fake%06d" % k})

    # ---------------------------------------------------------------- messages
    def api_messages(self, k, req):
        messages = req.get("messages") or []
        user_texts = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        system_text = text_of(req.get("system")) if not isinstance(req.get("system"), str) else req.get("system")
        if any("TRIGGER_ERROR" in t for t in user_texts + [system_text or ""]):
            entry = self._entry(k, req)
            entry.update(status=400, model=None, usage=None, usage_stream_events=None, response_id=None,
                         finish_reason=None, thinking=False, cache_breakpoints=[])
            self.ledger.add(entry)
            self._send_json(
                400,
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": "messages: the prompt contains TRIGGER_ERROR (fake server).",
                    },
                    "request_id": "req_fake%06d" % k,
                },
            )
            return
        model = snapshot(req.get("model"))
        mid = "msg_fake%06d" % k
        last = messages[-1] if messages else {}
        last_content = last.get("content")
        after_tool_result = isinstance(last_content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in last_content
        )
        thinking = (req.get("thinking") or {}).get("type") in ("enabled", "adaptive")
        blocks = []
        if thinking:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": "Fake reasoning for request %d: the user wants a short answer; answer it." % k,
                    "signature": "ZmFrZS1zaWduYXR1cmUt%06d" % k,
                }
            )
        stop_reason = "end_turn"
        tools = req.get("tools") or []
        if tools and last.get("role") == "user" and not after_tool_result:
            tool = tools[0]
            blocks.append({"type": "text", "text": "Let me look that up."})
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_fake%06d" % k,
                    "name": tool.get("name", "get_weather"),
                    "input": {"city": "Paris", "unit": "celsius"},
                }
            )
            stop_reason = "tool_use"
        elif after_tool_result:
            blocks.append({"type": "text", "text": "It is 18 degrees Celsius and sunny in Paris (reply %d)." % k})
        else:
            q = user_texts[-1] if user_texts else ""
            blocks.append({"type": "text", "text": "This is fake reply number %d to: %s" % (k, q[:60])})

        inp, out, think = base_numbers(k)
        if not thinking:
            think = 0
        output_tokens = out + think
        read, w5, w1, bps = self.ledger.caching(k, req)
        usage = {
            "input_tokens": inp,
            "cache_creation_input_tokens": w5 + w1,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }
        if thinking:
            usage["output_tokens_details"] = {"thinking_tokens": think}
        entry = self._entry(k, req)
        entry.update(status=200, model=model, response_id=mid, finish_reason=stop_reason, usage=usage,
                     thinking=thinking, cache_breakpoints=bps, usage_stream_events=None)
        if req.get("stream"):
            start_usage = dict(usage, output_tokens=PROVISIONAL_OUTPUT)
            start_usage.pop("output_tokens_details", None)
            delta_usage = {
                "input_tokens": inp,
                "cache_creation_input_tokens": w5 + w1,
                "cache_read_input_tokens": read,
                "output_tokens": output_tokens,
            }
            if thinking:
                delta_usage["output_tokens_details"] = {"thinking_tokens": think}
            entry["usage_stream_events"] = {"message_start": start_usage, "message_delta": delta_usage}
            self.ledger.add(entry)
            self.stream_message(mid, model, blocks, stop_reason, start_usage, delta_usage)
            return
        self.ledger.add(entry)
        self._send_json(
            200,
            {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": blocks,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": usage,
            },
        )

    def stream_message(self, mid, model, blocks, stop_reason, start_usage, delta_usage):
        self.start_stream("text/event-stream; charset=utf-8",
                          [("Cache-Control", "no-cache"), ("Connection", "close")] + self._headers_common())

        def ev(name, obj):
            self.write_event(("event: %s\ndata: %s\n\n" % (name, json.dumps(obj))).encode())

        ev(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        for i, b in enumerate(blocks):
            if b["type"] == "thinking":
                ev("content_block_start", {"type": "content_block_start", "index": i,
                                           "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
                if i == 0:
                    ev("ping", {"type": "ping"})
                words = b["thinking"].split(" ")
                for j in range(0, len(words), 4):
                    piece = " ".join(words[j:j + 4]) + (" " if j + 4 < len(words) else "")
                    ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "thinking_delta", "thinking": piece}})
                ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                           "delta": {"type": "signature_delta", "signature": b["signature"]}})
            elif b["type"] == "text":
                ev("content_block_start", {"type": "content_block_start", "index": i,
                                           "content_block": {"type": "text", "text": ""}})
                if i == 0:
                    ev("ping", {"type": "ping"})
                words = b["text"].split(" ")
                for j, w in enumerate(words):
                    ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "text_delta", "text": w if j == 0 else " " + w}})
            elif b["type"] == "tool_use":
                ev("content_block_start", {"type": "content_block_start", "index": i,
                                           "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"],
                                                             "input": {}}})
                js = json.dumps(b["input"])
                half = len(js) // 2
                for piece in ("", js[:half], js[half:]):
                    ev("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": {"type": "input_json_delta", "partial_json": piece}})
            ev("content_block_stop", {"type": "content_block_stop", "index": i})
        ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                             "usage": delta_usage})
        ev("message_stop", {"type": "message_stop"})


def make_server(ledger_path, port=0):
    return fakeserver.make_server(Handler, "BoundHandler", port, ledger=Ledger(ledger_path))


def main():
    fakeserver.serve_main(make_server, "fake anthropic on http://127.0.0.1:%d (POST /v1/messages)")


if __name__ == "__main__":
    main()

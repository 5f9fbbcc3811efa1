#!/usr/bin/env python3
"""A tiny fake Gemini API (generativelanguage, v1beta) server, stdlib only, with a ledger.

Endpoints (the shapes are the real API's JSON, camelCase, as the `google-genai`
SDK's types in `google/genai/types.py` read them), under any version prefix
(google-genai 3.x posts to /v1/..., older ones to /v1beta/...):
  POST /v1beta/models/{model}:generateContent
  POST /v1beta/models/{model}:streamGenerateContent?alt=sse
  POST /v1beta/cachedContents                       (client.caches.create)
Request fields are read by lowerCamel or snake_case name, as Google's JSON
parser accepts both.

Every request k (1-based, counted over all three endpoints, errors included)
gets distinct numbers:
  promptTokenCount        = 3000 + 23*k   (INCLUDES cachedContentTokenCount)
  candidatesTokenCount    = 70 + 7*k      (EXCLUDES thoughts)
  thoughtsTokenCount      = 300 + 11*k    when the model thinks (see below), else absent
  cachedContentTokenCount = 2048          when the request names a cachedContent
                          = 1024          implicit cache hit: a request with >= 5 contents
                                          (the 3rd turn of a chat); else absent
  totalTokenCount         = prompt + candidates + thoughts
The model thinks when it is a thinking model (gemini-2.5-flash, gemini-2.5-pro:
by default; gemini-2.5-flash-lite: only with thinkingBudget > 0) and
thinkingBudget is not 0. Thought parts ({"text": ..., "thought": true}) are
returned only when thinkingConfig.includeThoughts is true; thoughtsTokenCount
is sent whenever the model thought, shown or not (as the real API does).

Streaming (alt=sse): `data: {json}\\r\\n\\r\\n` events; EVERY chunk carries a
usageMetadata with the CUMULATIVE counts so far (promptTokenCount on every
chunk, thoughtsTokenCount from the first thought chunk on, candidatesTokenCount
growing), the last chunk has finishReason STOP and the final counts (the
ledger's usage).

Function calling: when `tools` has functionDeclarations and the last content
is a user text, the reply is a functionCall get_weather({"city": "Paris",
"unit": "celsius"}); after a functionResponse part, a text reply.
A user text containing TRIGGER_ERROR gets HTTP 400 with Google's error JSON
({"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT"}}), no usage.

Ledger (JSON list, rewritten after each request): request_no, endpoint, the
X-Scenario / X-Trace-Name / X-Session-Id / X-User-Id / X-App-Traceparent
headers the app sets, traceparent (if an instrumentation propagated one),
requested model, modelVersion returned, responseId, status, stream, usage as
sent (the final usageMetadata; for streams also every chunk's, in
stream_usage_chunks), thinking flags, cachedContent.

  python fake_gemini.py --ledger ledger.json [--port-file F]
"""
import base64
import json
import os
import sys
import time
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fakeserver  # noqa: E402  (../fakeserver.py)

THINKING_BY_DEFAULT = {"gemini-2.5-flash", "gemini-2.5-pro"}
THINKING_CAPABLE = THINKING_BY_DEFAULT | {"gemini-2.5-flash-lite"}
CACHE_TOKENS = 2048
IMPLICIT_CACHE_TOKENS = 1024
SIGNATURE = base64.b64encode(b"fake-thought-signature").decode()


def model_version(model):
    # The Gemini API answers modelVersion = the model id asked for (no dated snapshot
    # for the stable 2.5 ids).
    return model


def numbers(k, thinks, cached):
    prompt = 3000 + 23 * k
    cand = 70 + 7 * k
    thoughts = 300 + 11 * k if thinks else 0
    return prompt, cached, cand, thoughts


def usage_metadata(prompt, cached, cand, thoughts, final=True):
    """usageMetadata as the Gemini API sends it (absent fields are omitted, not 0)."""
    u = {"promptTokenCount": prompt}
    if cand or final:
        u["candidatesTokenCount"] = cand
    u["totalTokenCount"] = prompt + cand + thoughts
    if cached:
        u["cachedContentTokenCount"] = cached
    u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if cached:
        u["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    return u


def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def g(d, camel, default=None):
    """A request field by its proto JSON name; Google's parser takes lowerCamel or the
    original snake_case name (the SDK sends e.g. thinkingConfig {"include_thoughts": true})."""
    if not isinstance(d, dict):
        return default
    if camel in d:
        return d[camel]
    return d.get(snake(camel), default)


def texts_of(contents, role="user"):
    out = []
    for c in contents or []:
        if (c.get("role") or "user") != role:
            continue
        for p in c.get("parts") or []:
            if "text" in p:
                out.append(p["text"])
    return out


class Ledger(fakeserver.Ledger):
    def __init__(self, path):
        super().__init__(path)
        self.caches = {}


class Handler(fakeserver.QuietHandler):
    ledger = None

    def _send_json(self, code, obj):
        self.send_body(code, json.dumps(obj, indent=2).encode(), "application/json; charset=UTF-8",
                       [("Vary", "Origin, X-Origin, Referer")])

    def _entry(self, k, endpoint, model, req, stream):
        h = self.headers
        return {
            "request_no": k,
            "provider": "gemini",
            "endpoint": endpoint,
            "path": self.path,
            **self.app_fields(),
            "api_key_header": h.get("x-goog-api-key") is not None,
            "requested_model": model,
            "stream": stream,
            "time": time.time(),
        }

    def do_GET(self):
        self._send_json(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

    def do_POST(self):
        req = self.read_json()
        parts = urlsplit(self.path)
        path = unquote(parts.path).rstrip("/")
        k = self.ledger.next_no()
        if path.endswith("/cachedContents"):
            return self.api_cache_create(k, req)
        if "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
            model, method = path.split("/models/", 1)[1].rsplit(":", 1)
            if method in ("generateContent", "streamGenerateContent"):
                return self.api_generate(k, model, method, req, "alt=sse" in (parts.query or ""))
        entry = self._entry(k, path, None, req, False)
        entry.update(status=404, model=None, usage=None, usage_as_sent=None)
        self.ledger.add(entry)
        self._send_json(404, {"error": {"code": 404, "message": "unknown path " + path, "status": "NOT_FOUND"}})

    # ------------------------------------------------------------- caches.create
    def api_cache_create(self, k, req):
        name = "cachedContents/fakecache%06d" % k
        model = (g(req, "model") or "").split("/")[-1]
        self.ledger.caches[name] = {"model": model, "tokens": CACHE_TOKENS}
        entry = self._entry(k, "cachedContents.create", model, req, False)
        um = {"totalTokenCount": CACHE_TOKENS}
        entry.update(status=200, model=model, response_id=name, usage=None, usage_as_sent=um)
        self.ledger.add(entry)
        self._send_json(
            200,
            {
                "name": name,
                "model": "models/" + model,
                "createTime": "2026-01-01T00:00:00.000000Z",
                "updateTime": "2026-01-01T00:00:00.000000Z",
                "expireTime": "2026-01-01T01:00:00.000000Z",
                "displayName": g(req, "displayName", ""),
                "usageMetadata": um,
            },
        )

    # ---------------------------------------------------------- generateContent
    def api_generate(self, k, model, method, req, sse):
        stream = method == "streamGenerateContent"
        endpoint = method
        contents = g(req, "contents") or []
        gc = g(req, "generationConfig") or {}
        tc = g(gc, "thinkingConfig") or {}
        budget = g(tc, "thinkingBudget")
        include = bool(g(tc, "includeThoughts"))
        if model in THINKING_BY_DEFAULT:
            thinks = budget != 0
        elif model in THINKING_CAPABLE:
            thinks = bool(budget and budget > 0)
        else:
            thinks = False
        entry = self._entry(k, endpoint, model, req, stream)
        entry.update(
            thinks=thinks,
            include_thoughts=include,
            thinking_budget=budget,
            cached_content=g(req, "cachedContent"),
            alt_sse=sse,
        )
        if any("TRIGGER_ERROR" in t for t in texts_of(contents)):
            entry.update(status=400, model=None, response_id=None, usage=None, usage_as_sent=None, finish_reason=None)
            self.ledger.add(entry)
            return self._send_json(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "Invalid JSON payload received. The prompt contains TRIGGER_ERROR (fake server).",
                        "status": "INVALID_ARGUMENT",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.BadRequest",
                                "fieldViolations": [{"field": "contents[0].parts[0].text", "description": "TRIGGER_ERROR"}],
                            }
                        ],
                    }
                },
            )
        cached = 0
        if g(req, "cachedContent"):
            cached = self.ledger.caches.get(g(req, "cachedContent"), {}).get("tokens", CACHE_TOKENS)
        elif len(contents) >= 5:
            cached = IMPLICIT_CACHE_TOKENS
        prompt, cached, cand, thoughts = numbers(k, thinks, cached)
        rid = "fakeResp%06d" % k
        mv = model_version(model)
        # what to answer
        last_parts = (contents[-1].get("parts") or []) if contents else []
        has_fn_decl = any(g(t, "functionDeclarations") for t in (g(req, "tools") or []))
        answer_parts = []
        if has_fn_decl and not any(g(p, "functionResponse") for p in last_parts):
            fc = {"functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}}}
            if thinks:
                fc["thoughtSignature"] = SIGNATURE
            answer_parts.append(fc)
            answer_text = None
        elif any(g(p, "functionResponse") for p in last_parts):
            answer_text = "It is 18 degrees Celsius and sunny in Paris (reply %d)." % k
        else:
            q = (texts_of(contents) or [""])[-1]
            answer_text = "This is fake Gemini reply number %d to: %s" % (k, q[:60])
        thought_text = (
            "**Thinking about request %d**\n\nThe user asks something simple; I will answer briefly." % k
            if thinks and include
            else None
        )
        final_usage = usage_metadata(prompt, cached, cand, thoughts)
        entry.update(status=200, model=mv, response_id=rid, usage=final_usage, usage_as_sent=final_usage, finish_reason="STOP",
                     reply_text=answer_text, thought_text=thought_text,
                     function_call=answer_parts[0]["functionCall"] if answer_parts else None)
        if not stream:
            parts = []
            if thought_text:
                parts.append({"text": thought_text, "thought": True})
            if answer_text is not None:
                p = {"text": answer_text}
                if thinks and not parts:
                    p["thoughtSignature"] = SIGNATURE
                parts.append(p)
            parts.extend(answer_parts)
            self.ledger.add(entry)
            return self._send_json(
                200,
                {
                    "candidates": [
                        {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
                    ],
                    "usageMetadata": final_usage,
                    "modelVersion": mv,
                    "responseId": rid,
                },
            )
        # ---- streaming: build the chunk list, every chunk with cumulative usage
        chunks = []  # (parts, finish, usage)
        if thought_text:
            half = len(thought_text) // 2
            chunks.append(([{"text": thought_text[:half], "thought": True}], None, usage_metadata(prompt, cached, 0, thoughts, final=False)))
            chunks.append(([{"text": thought_text[half:], "thought": True}], None, usage_metadata(prompt, cached, 0, thoughts, final=False)))
        if answer_text is not None:
            words = answer_text.split(" ")
            pieces = [" ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "") for i in range(0, len(words), 4)]
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                so_far = cand if last else max(1, cand * (i + 1) // len(pieces))
                chunks.append(([{"text": piece}], "STOP" if last else None, usage_metadata(prompt, cached, so_far, thoughts, final=last)))
        else:
            fc_parts = answer_parts
            chunks.append((fc_parts, "STOP", usage_metadata(prompt, cached, cand, thoughts)))
        entry["stream_usage_chunks"] = [c[2] for c in chunks]
        self.ledger.add(entry)
        self.start_stream("text/event-stream", [("Content-Disposition", "attachment"), ("Connection", "close")])
        for parts, finish, um in chunks:
            cand_obj = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                cand_obj["finishReason"] = finish
            obj = {"candidates": [cand_obj], "usageMetadata": um, "modelVersion": mv, "responseId": rid}
            self.write_event(b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\r\n\r\n")


def make_server(ledger_path, port=0):
    return fakeserver.make_server(Handler, "BoundGeminiHandler", port, ledger=Ledger(ledger_path))


def main():
    fakeserver.serve_main(make_server, "fake gemini on http://127.0.0.1:%d")


if __name__ == "__main__":
    main()

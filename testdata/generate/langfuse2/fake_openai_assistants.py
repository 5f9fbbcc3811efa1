#!/usr/bin/env python3
"""llm/fake_openai.py plus the Assistants API endpoints (stdlib only).

Everything fake_openai.py answers is answered the same way (this is a subclass of
its handler; fake_openai.py itself is unchanged). Added:

  POST /v1/assistants                        create an assistant        (not a model call)
  GET  /v1/assistants/{id}                   retrieve it                (not a model call)
  POST /v1/threads                           create a thread            (not a model call)
  POST /v1/threads/{id}/messages             add a message              (not a model call)
  GET  /v1/threads/{id}/messages             list messages, newest first (not a model call)
  POST /v1/threads/{id}/runs                 create a run: status "queued"
  GET  /v1/threads/{id}/runs/{run_id}        1st retrieve "in_progress", 2nd and later "completed"
                                             with `usage` {prompt_tokens, completion_tokens,
                                             total_tokens}; the assistant's reply is added to
                                             the thread when the run completes

The run that completes is ONE model call: it takes the next request number k of
the ledger (the same counter as chat completions) and its usage is
prompt 1000 + 17k, completion 50 + 3k, total = their sum (fake_openai.usage_numbers;
a run's usage has no cached / reasoning details). Its ledger entry (endpoint
"assistants.run") is written when the completed run is first served, with the
X-* headers of that retrieve request. The other Assistants requests are not model
calls and are not in the ledger.

Ledger entries also get `app_trace_id` (header X-App-Trace-Id: the Langfuse trace id
the app was in, when it knew it before the call) and `app_call` (header X-App-Call:
the app's own tag for the call, which the app maps to its Langfuse trace id after
the call).

Run standalone:  python fake_openai_assistants.py --ledger ledger.json [--port-file F]
"""
import os
import re
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "llm"))
sys.path.insert(1, os.path.join(HERE, ".."))
import fake_openai  # noqa: E402  (../llm/fake_openai.py)
import fakeserver  # noqa: E402  (../fakeserver.py)

CREATED = fake_openai.CREATED
ASSISTANT_PATHS = re.compile(r"^/v1/(assistants|threads)(/.*)?$")


class State:
    """Assistants, threads, messages and runs, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0
        self.assistants = {}
        self.threads = {}  # id -> {"thread": obj, "messages": [obj, ...] (oldest first)}
        self.runs = {}  # run id -> {"run": obj, "polls": int, "recorded": bool}

    def next(self):
        self.n += 1
        return self.n


class Handler(fake_openai.Handler):
    state = None  # set by make_server

    def _entry(self, k, endpoint, req):
        e = super()._entry(k, endpoint, req)
        e["app_trace_id"] = self.headers.get("X-App-Trace-Id")
        e["app_call"] = self.headers.get("X-App-Call")
        return e

    def _path(self):
        return self.path.split("?")[0].rstrip("/")

    def do_GET(self):
        path = self._path()
        if ASSISTANT_PATHS.match(path):
            return self.assistants_get(path)
        return super().do_GET()

    def do_POST(self):
        path = self._path()
        if ASSISTANT_PATHS.match(path):
            return self.assistants_post(path, self.read_json())
        return super().do_POST()

    def _not_found(self, path):
        self._send_json(404, {"error": {"message": "No such object: " + path, "type": "invalid_request_error",
                                        "param": None, "code": None}})

    # ------------------------------------------------------------ objects
    def _message(self, n, thread_id, role, text, assistant_id=None, run_id=None):
        return {
            "id": "msg_fake%06d" % n,
            "object": "thread.message",
            "created_at": CREATED + n,
            "assistant_id": assistant_id,
            "thread_id": thread_id,
            "run_id": run_id,
            "role": role,
            "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
            "attachments": [],
            "metadata": {},
            "status": "completed",
            "completed_at": CREATED + n,
            "incomplete_at": None,
            "incomplete_details": None,
        }

    def assistants_post(self, path, req):
        st = self.state
        parts = path.split("/")[2:]  # assistants | threads, {id}, messages|runs
        with st.lock:
            n = st.next()
            if parts == ["assistants"]:
                obj = {
                    "id": "asst_fake%06d" % n,
                    "object": "assistant",
                    "created_at": CREATED + n,
                    "name": req.get("name"),
                    "description": req.get("description"),
                    "model": req.get("model"),
                    "instructions": req.get("instructions"),
                    "tools": req.get("tools") or [],
                    "tool_resources": {},
                    "metadata": req.get("metadata") or {},
                    "top_p": 1.0,
                    "temperature": 1.0,
                    "response_format": "auto",
                }
                st.assistants[obj["id"]] = obj
                return self._send_json(200, obj)
            if parts == ["threads"]:
                obj = {"id": "thread_fake%06d" % n, "object": "thread", "created_at": CREATED + n,
                       "metadata": req.get("metadata") or {}, "tool_resources": {}}
                st.threads[obj["id"]] = {"thread": obj, "messages": []}
                for m in req.get("messages") or []:
                    st.threads[obj["id"]]["messages"].append(
                        self._message(st.next(), obj["id"], m.get("role", "user"), fake_openai.text_of(m.get("content"))))
                return self._send_json(200, obj)
            if len(parts) == 3 and parts[0] == "threads" and parts[1] in st.threads:
                tid = parts[1]
                if parts[2] == "messages":
                    obj = self._message(n, tid, req.get("role", "user"), fake_openai.text_of(req.get("content")))
                    st.threads[tid]["messages"].append(obj)
                    return self._send_json(200, obj)
                if parts[2] == "runs" and req.get("assistant_id") in st.assistants:
                    asst = st.assistants[req["assistant_id"]]
                    obj = {
                        "id": "run_fake%06d" % n,
                        "object": "thread.run",
                        "created_at": CREATED + n,
                        "assistant_id": asst["id"],
                        "thread_id": tid,
                        "status": "queued",
                        "started_at": None,
                        "expires_at": CREATED + n + 600,
                        "cancelled_at": None,
                        "failed_at": None,
                        "completed_at": None,
                        "required_action": None,
                        "last_error": None,
                        "model": req.get("model") or asst["model"],
                        "instructions": req.get("instructions") or asst["instructions"] or "",
                        "tools": asst["tools"],
                        "tool_resources": {},
                        "metadata": {},
                        "temperature": 1.0,
                        "top_p": 1.0,
                        "max_completion_tokens": None,
                        "max_prompt_tokens": None,
                        "truncation_strategy": {"type": "auto", "last_messages": None},
                        "incomplete_details": None,
                        "usage": None,
                        "response_format": "auto",
                        "tool_choice": "auto",
                        "parallel_tool_calls": True,
                    }
                    st.runs[obj["id"]] = {"run": obj, "polls": 0, "recorded": False}
                    return self._send_json(200, obj)
        return self._not_found(path)

    def assistants_get(self, path):
        st = self.state
        parts = path.split("/")[2:]
        with st.lock:
            if len(parts) == 2 and parts[0] == "assistants" and parts[1] in st.assistants:
                return self._send_json(200, st.assistants[parts[1]])
            if len(parts) == 3 and parts[0] == "threads" and parts[1] in st.threads and parts[2] == "messages":
                data = list(reversed(st.threads[parts[1]]["messages"]))  # order=desc, OpenAI's default
                return self._send_json(200, {"object": "list", "data": data,
                                             "first_id": data[0]["id"] if data else None,
                                             "last_id": data[-1]["id"] if data else None, "has_more": False})
            if len(parts) == 4 and parts[0] == "threads" and parts[2] == "runs" and parts[3] in st.runs:
                r = st.runs[parts[3]]
                run = r["run"]
                if run["thread_id"] != parts[1]:
                    return self._not_found(path)
                r["polls"] += 1
                if r["polls"] == 1:
                    run["status"] = "in_progress"
                    run["started_at"] = run["created_at"] + 1
                elif not r["recorded"]:
                    self.complete_run(r)
                return self._send_json(200, run)
        return self._not_found(path)

    def complete_run(self, r):
        """The model call: next ledger number, usage, the reply message, the ledger entry (lock held)."""
        run = r["run"]
        k = self.ledger.next_no()
        self._k = k
        p, _c, o, _r, t = fake_openai.usage_numbers(k)
        usage = {"prompt_tokens": p, "completion_tokens": o, "total_tokens": t}
        run.update(status="completed", completed_at=run["created_at"] + 2, usage=usage)
        thread = self.state.threads[run["thread_id"]]
        users = [m for m in thread["messages"] if m["role"] == "user"]
        question = users[-1]["content"][0]["text"]["value"] if users else ""
        reply = "This is fake run reply number %d to: %s" % (k, question[:60])
        thread["messages"].append(self._message(self.state.next(), run["thread_id"], "assistant", reply,
                                                assistant_id=run["assistant_id"], run_id=run["id"]))
        r["recorded"] = True
        entry = self._entry(k, "assistants.run", {"model": run["model"]})
        entry.update(status=200, model=run["model"], response_id=run["id"], finish_reason=None, usage=usage,
                     thread_id=run["thread_id"], assistant_id=run["assistant_id"])
        self.ledger.add(entry)


def make_server(ledger_path, port=0):
    return fakeserver.make_server(Handler, "BoundAssistantsHandler", port, ledger=fakeserver.Ledger(ledger_path),
                                  state=State())


def main():
    fakeserver.serve_main(make_server, "fake openai (+ assistants) on http://127.0.0.1:%d/v1")


if __name__ == "__main__":
    main()

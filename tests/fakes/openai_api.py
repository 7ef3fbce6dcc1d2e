"""A local HTTP server speaking the OpenAI chat-completions API, for the LLM summary path.

Point any OpenAI-compatible client at ``server.url`` (``.../v1``). It answers ``POST /v1/chat/completions`` with
the documented response shape (``choices[0].message.content``, ``finish_reason``, ``usage``), records every request
body and its ``Authorization`` header, and can be scripted per request: ``reply(text)``, ``fail(status, n)``
(with ``Retry-After: 0`` on 429, as the API sends it), or ``delay(seconds)``. Unscripted requests get a default
answer that quotes the diagnosis line of the prompt, so a test can tell which diagnosis it came from.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_http import LocalHTTPServer


@dataclass(frozen=True)
class Request:
    body: dict[str, Any]
    authorization: str

    @property
    def prompt(self) -> str:
        """Every message's content, joined: what the model was shown."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


@dataclass
class _Script:
    answers: deque[tuple[int, str]] = field(default_factory=deque)  # (status, content)
    delay_s: float = 0.0


class FakeOpenAI(LocalHTTPServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.requests: list[Request] = []
        self.script = _Script()
        self.lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    def reply(self, *contents: str) -> None:
        """The next requests are answered with these contents, in order."""
        with self.lock:
            self.script.answers.extend((200, c) for c in contents)

    def fail(self, status: int, times: int = 1) -> None:
        with self.lock:
            self.script.answers.extend((status, "") for _ in range(times))

    def delay(self, seconds: float) -> None:
        self.script.delay_s = seconds

    def _next(self, body: dict[str, Any]) -> tuple[int, str]:
        with self.lock:
            if self.script.answers:
                return self.script.answers.popleft()
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        diagnosis = next((ln for ln in prompt.splitlines() if ln.startswith("Diagnosis:")), "no diagnosis line")
        return 200, f"Model summary. {diagnosis} Follow the first recommended action."

    def completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            self._send(400, {"error": {"message": "model and messages are required", "type": "invalid_request_error"}})
            return
        with self.server.lock:
            self.server.requests.append(Request(body, self.headers.get("Authorization", "")))
        if self.server.script.delay_s:
            time.sleep(self.server.script.delay_s)
        status, content = self.server._next(body)
        if status != 200:
            headers = {"Retry-After": "0"} if status == HTTPStatus.TOO_MANY_REQUESTS else {}
            error = {"message": f"scripted failure {status}", "type": "server_error", "code": str(status)}
            self._send(status, {"error": error}, headers)
            return
        self._send(200, self.server.completion(body, content))

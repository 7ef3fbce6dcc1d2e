"""A local HTTP server that speaks enough of the Slack Web API for the bot: it records every call and can say 429.

Point a real ``slack_sdk.WebClient(base_url=server.url)`` at it. Each call is kept as a `Call` (method, params,
monotonic time of arrival), so tests count posts per channel and check their spacing. Posted messages are kept per
channel with their ``metadata``, and ``conversations.history`` returns them as Slack documents it: top-level
messages only, newest first, from ``oldest`` on, ``metadata`` only with ``include_all_metadata``; a channel never
posted to is ``channel_not_found``, and ``deny_scope(method)`` answers ``missing_scope`` as for an app installed
without the scope. ``throttle(method, n,
retry_after)`` makes the next ``n`` calls of ``method`` answer ``429 Too Many Requests`` with ``Retry-After``, as
Slack does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.local_http import LocalHTTPServer

BOT_USER = "UBOT"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    throttled: dict[str, list[float]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unscoped: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeSlack(LocalHTTPServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.state = _State()
        self.socket_mode_url: str | None = None
        self._ts_lock = threading.Lock()
        self._last_ts = 0.0

    @property
    def url(self) -> str:
        return f"{self.origin}/api/"

    def next_ts(self) -> str:
        """Unique and increasing, and close to the wall clock as Slack's are (``oldest`` filters compare them)."""
        with self._ts_lock:
            self._last_ts = max(self._last_ts + 1e-6, time.time())
            return f"{self._last_ts:.6f}"

    def throttle(self, method: str, times: int, retry_after: float = 1) -> None:
        with self.state.lock:
            self.state.throttled.setdefault(method, []).extend([retry_after] * times)

    def deny_scope(self, method: str) -> None:
        self.state.unscoped.add(method)

    def set_group(self, group_id: str, users: list[str]) -> None:
        self.state.groups[group_id] = users

    def calls(self, method: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.calls("chat.postMessage") if channel is None or c.params.get("channel") == channel]


def _answer(server: FakeSlack, method: str, params: dict[str, Any]) -> dict[str, Any]:
    channel = params.get("channel", "C000")
    if method == "auth.test":
        return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "aetherius"}
    if method in server.state.unscoped:
        return {"ok": False, "error": "missing_scope", "needed": "channels:history"}
    if method == "chat.postMessage":
        ts = server.next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": params.get("text", ""), "user": BOT_USER}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            metadata = params["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        with server.state.lock:
            server.state.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}
    if method == "conversations.history":
        return _history(server, channel, params)
    if method == "apps.connections.open":  # Socket Mode: the WebSocket URL of tests.fakes.socket_mode
        url = server.socket_mode_url
        return {"ok": True, "url": url} if url else {"ok": False, "error": "not_allowed_token_type"}
    if method == "chat.update":
        return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text", "")}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": server.next_ts()}
    if method == "files.getUploadURLExternal":
        file_id = f"F{len(server.state.uploads) + 1:06d}"
        server.state.uploads[file_id] = b""
        host, port = server.server_address[:2]
        return {"ok": True, "file_id": file_id, "upload_url": f"http://{host!s}:{port}/upload/{file_id}"}
    if method == "files.completeUploadExternal":
        files = json.loads(params["files"]) if isinstance(params.get("files"), str) else params.get("files", [])
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
    if method in ("views.publish", "views.open", "views.update"):
        return {"ok": True, "view": {"id": "V1", "type": "home"}}
    if method == "usergroups.users.list":
        users = server.state.groups.get(str(params.get("usergroup")))
        return {"ok": True, "users": users} if users is not None else {"ok": False, "error": "no_such_subteam"}
    if method in ("reactions.add", "reactions.remove"):
        return {"ok": True}
    return {"ok": False, "error": "unknown_method"}


def _history(server: FakeSlack, channel: str, params: dict[str, Any]) -> dict[str, Any]:
    with server.state.lock:
        posted = server.state.messages.get(channel)
        if posted is None:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        top = [m for m in posted if "thread_ts" not in m and float(m["ts"]) >= oldest]
    newest_first = sorted(top, key=lambda m: float(m["ts"]), reverse=True)[:limit]
    messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in newest_first]
    return {"ok": True, "messages": messages, "has_more": len(top) > limit}


class _Handler(BaseHTTPRequestHandler):
    server: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/upload/"):
            self.server.state.uploads[self.path.rsplit("/", 1)[-1]] = body
            self._send(HTTPStatus.OK, b"OK")
            return
        method = self.path.removeprefix("/api/")
        kind = self.headers.get("Content-Type") or ""
        params: dict[str, Any] = json.loads(body or b"{}") if "json" in kind else dict(parse_qsl(body.decode()))
        state = self.server.state
        with state.lock:
            waiting = state.throttled.get(method)
            retry_after = waiting.pop(0) if waiting else None
            state.calls.append(Call(method, params, time.monotonic()))
        if retry_after is not None:
            data = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self._send(HTTPStatus.TOO_MANY_REQUESTS, data, {"Retry-After": f"{retry_after:g}"})
            return
        data = json.dumps(_answer(self.server, method, params)).encode()
        self._send(HTTPStatus.OK, data, {"Content-Type": "application/json; charset=utf-8"})

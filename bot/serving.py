"""Slack's HTTP endpoint: a threaded stdlib server that hands each POST to ``App.dispatch`` untouched.

The raw body and headers reach Bolt as they came, so Bolt checks the signature and the 5-minute window itself.
One thread per request: Slack wants its answer within 3 seconds, and a slow listener must not hold up others.
``GET /healthz`` answers for probes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

MAX_BODY_BYTES = 1024 * 1024
PATH = "/slack/events"
log = logging.getLogger("aetherius.slack")


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def start(self) -> None:
        """Serve in a daemon thread (``serve_forever`` blocks instead)."""
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path == "/healthz":
            self._send(HTTPStatus.OK, b'{"ok": true}', {"Content-Type": "application/json"})
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        if self.path.split("?", 1)[0] != PATH or not 0 < length <= MAX_BODY_BYTES:
            self._send(HTTPStatus.NOT_FOUND if self.path.split("?", 1)[0] != PATH else HTTPStatus.BAD_REQUEST, b"")
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.app.dispatch(BoltRequest(body=body, headers=headers))
        out = {name: values[0] for name, values in response.headers.items() if values}
        self._send(response.status, (response.body or "").encode(), out)

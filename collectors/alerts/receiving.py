"""The Alertmanager webhook endpoint: authenticate, parse, hand over, answer fast.

Stdlib HTTP server (one thread per request): Alertmanager retries on any non-2xx, so a payload we cannot parse
gets a 400 with the reason (it will not get better by retrying), a wrong token a 401, and a failure of our own
sink a 503 so Alertmanager retries later and nothing is lost.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aetherius.errors import TemporaryError
from collectors.alerts.alerts import Alert, MalformedAlert, parse_payload

MAX_BODY_BYTES = 4 * 1024 * 1024
log = logging.getLogger("aetherius.alerts")

AlertSink = Callable[[list[Alert]], None]


class AlertReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sink: AlertSink, *, token: str | None, cluster: str) -> None:
        super().__init__(address, _Handler)
        self.sink = sink
        self.token = token
        self.cluster = cluster
        self.received = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def count(self, *, accepted: int = 0, rejected: int = 0) -> None:
        with self._lock:
            self.received += accepted
            self.rejected += rejected

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: AlertReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path == "/healthz":
            self._reply(HTTPStatus.OK, {"ok": True, "received": self.server.received, "rejected": self.server.rejected})
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/") not in ("/alertmanager", "/api/v1/alerts/webhook"):
            self._reply(HTTPStatus.NOT_FOUND, {"error": "POST alerts to /alertmanager"})
            return
        if not self._authorized():
            self.server.count(rejected=1)
            self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            self.server.count(rejected=1)
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"body must be 1..{MAX_BODY_BYTES} bytes"})
            return
        body = self.rfile.read(length)
        try:
            alerts = parse_payload(body, default_cluster=self.server.cluster)
        except MalformedAlert as err:
            self.server.count(rejected=1)
            log.warning("rejected Alertmanager payload: %s", err)
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(err)})
            return
        try:
            self.server.sink(alerts)
        except TemporaryError as err:
            log.warning("could not hand over %d alerts, Alertmanager will retry: %s", len(alerts), err)
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "temporarily unavailable, retry"})
            return
        self.server.count(accepted=len(alerts))
        self._reply(HTTPStatus.OK, {"accepted": len(alerts)})

    def _authorized(self) -> bool:
        expected = self.server.token
        if not expected:
            return True
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected.encode())

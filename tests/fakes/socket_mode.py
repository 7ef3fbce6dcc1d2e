"""Slack's side of Socket Mode on a local WebSocket: what an app behind a firewall connects to.

The documented exchange (api.slack.com/apis/socket-mode): the app calls ``apps.connections.open`` with its
``xapp-`` token and gets a WebSocket URL (`tests.fakes.slack.FakeSlack` answers with ``socket_mode_url``); Slack
says ``hello``; then every event, slash command or interaction arrives as an envelope ``{"envelope_id", "type",
"payload", "accepts_response_payload"}`` that the app must acknowledge by sending ``{"envelope_id": ...}`` back,
with a ``payload`` when it answers a command. `push` sends an envelope; `ack` waits for its acknowledgement.
A ``ws://`` URL on a port other than 443 is what slack_sdk's builtin client connects to without TLS.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.connected = threading.Event()
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._acks: dict[str, dict[str, Any]] = {}
        self._acked = threading.Condition()
        self._connection: ServerConnection | None = None
        self._server: Server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test"

    def _session(self, connection: ServerConnection) -> None:
        self._connection = connection
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}, "debug_info": {}}
        connection.send(json.dumps(hello))
        self.connected.set()
        try:
            for raw in connection:
                message = json.loads(raw)
                envelope_id = message.get("envelope_id")
                with self._acked:
                    if envelope_id:
                        self._acks[envelope_id] = message
                    self._acked.notify_all()
                self.received.put(message)
        except ConnectionClosed:
            pass

    def push(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False) -> str:
        """Send one envelope (``events_api``, ``slash_commands``, ``interactive``) to the connected app."""
        assert self.connected.wait(30), "the app never opened a Socket Mode connection"
        assert self._connection is not None
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The app's acknowledgement of ``envelope_id`` (with its response payload, if any)."""
        with self._acked:
            if not self._acked.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            return self._acks[envelope_id]

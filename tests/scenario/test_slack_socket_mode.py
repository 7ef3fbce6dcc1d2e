"""``aeth serve`` in Socket Mode (AETH_SLACK_MODE=socket), the way an app behind a firewall runs: it opens the
connection with its xapp- token through the Web API, then answers commands and events over a real WebSocket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aetherius.store import Store
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import CHANNEL, open_incident
from tests.fakes.socket_mode import FakeSocketMode

pytestmark = [pytest.mark.scenario, pytest.mark.timeout(180)]


@dataclass
class Served:
    slack: FakeSlack
    socket: FakeSocketMode
    store: Store
    incident: int
    root_ts: str
    process: subprocess.Popen[str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    store = Store.open(f"sqlite:///{tmp_path / 'aetherius.db'}")
    incident = open_incident(store)
    root_ts = "1764932400.000100"
    store.record_notification(incident, channel=CHANNEL, kind="root", payload={}, message_ts=root_ts)
    with FakeSlack() as slack, FakeSocketMode() as socket_mode:
        slack.socket_mode_url = socket_mode.url
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AETH_SLACK_")},
            "AETH_DATA_DIR": str(tmp_path),
            "AETH_SLACK_MODE": "socket",
            "AETH_SLACK_APP_TOKEN": "xapp-1-A1-test",
            "AETH_SLACK_BOT_TOKEN": "xoxb-test",
            "AETH_SLACK_API_URL": slack.url,
            "AETH_BROKER_URL": "redis://127.0.0.1:6379/14",
            "AETH_CLUSTER_NAME": "prod",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "aetherius.cli.main", "serve", "--no-alerts"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            if not socket_mode.connected.wait(120):
                process.terminate()
                raise AssertionError(process.communicate(timeout=10)[0][-3000:])
            yield Served(slack, socket_mode, store, incident, root_ts, process)
        finally:
            process.terminate()
            process.wait(timeout=15)
            store.close()


def test_the_connection_is_opened_with_the_app_token_and_a_command_is_answered_in_its_ack(served: Served) -> None:
    assert len(served.slack.calls("apps.connections.open")) == 1
    command = {
        "command": "/aeth",
        "text": "help",
        "user_id": "U_ALICE",
        "channel_id": CHANNEL,
        "team_id": "T1",
        "trigger_id": f"13345224609.{uuid.uuid4().hex}",  # unique: Redis remembers seen ones
        "response_url": f"{served.slack.url}response",
    }
    envelope = served.socket.push("slash_commands", command, accepts_response_payload=True)
    ack = served.socket.ack(envelope)
    assert "*Usage:*" in ack["payload"]["text"] and ack["payload"]["response_type"] == "ephemeral"


def test_a_reaction_event_over_the_socket_is_acked_and_recorded_as_feedback(served: Served) -> None:
    event = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": f"Ev{uuid.uuid4().hex[:12]}",
        "event_time": int(time.time()),
        "event": {
            "type": "reaction_added",
            "user": "U_BOB",
            "reaction": "+1",
            "item": {"type": "message", "channel": CHANNEL, "ts": served.root_ts},
            "event_ts": "1",
        },
    }
    served.socket.ack(served.socket.push("events_api", event))
    deadline = time.monotonic() + 30
    while not served.store.feedback(served.incident) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(f.user, f.kind) for f in served.store.feedback(served.incident)] == [("U_BOB", "thumbs_up")]


def test_a_button_click_over_the_socket_opens_the_wrong_cause_picker(served: Served) -> None:
    trigger = f"13345224609.{uuid.uuid4().hex}"
    click = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U_BEN"},
        "api_app_id": "A1",
        "trigger_id": trigger,
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "message_ts": served.root_ts, "channel_id": CHANNEL},
        "actions": [
            {
                "action_id": "aeth_wrong_cause",
                "block_id": "b",
                "value": f"{served.incident}:oom_killed",
                "type": "button",
                "action_ts": "1",
            }
        ],
    }
    served.socket.ack(served.socket.push("interactive", click))
    deadline = time.monotonic() + 30
    while not served.slack.calls("views.open") and time.monotonic() < deadline:
        time.sleep(0.1)
    [opened] = served.slack.calls("views.open")
    assert opened.params["trigger_id"] == trigger

"""``aeth serve`` as a process: signed Slack requests over real HTTP, and Alertmanager alerts into the store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from aetherius.store import Store
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import SECRET, sign

pytestmark = [pytest.mark.scenario]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    slack_port, alerts_port = _free_port(), _free_port()
    with FakeSlack() as slack:
        env = {
            **os.environ,
            "AETH_DATA_DIR": str(tmp_path),
            "AETH_SLACK_BOT_TOKEN": "xoxb-test",
            "AETH_SLACK_SIGNING_SECRET": SECRET,
            "AETH_SLACK_API_URL": slack.url,
            "AETH_SLACK_HOST": "127.0.0.1",
            "AETH_SLACK_PORT": str(slack_port),
            "AETH_WEBHOOK_PORT": str(alerts_port),
            "AETH_BROKER_URL": "redis://127.0.0.1:6379/14",
            "AETH_CLUSTER_NAME": "prod",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "aetherius.cli.main", "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{slack_port}"
            for _ in range(600):  # wait for the health check (the process imports the whole stack first)
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                        break
                except OSError:
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
                    time.sleep(0.1)
            yield f"{base}/slack/events", f"http://127.0.0.1:{alerts_port}/alertmanager", tmp_path
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_aeth_serve_answers_signed_commands_and_rejects_forged_ones_over_http(served: tuple[str, str, Path]) -> None:
    url = served[0]
    body = urlencode({"command": "/aeth", "text": "help", "user_id": "U1", "channel_id": "C1", "team_id": "T1"})
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, answer = _post(url, body.encode(), {**form, **sign(body)})
    assert status == 200 and "*Usage:*" in json.loads(answer)["text"]
    status, _ = _post(url, body.encode(), {**form, **sign(body, secret="forged")})
    assert status == 401


def test_aeth_serve_records_an_alertmanager_alert_as_an_incident(served: tuple[str, str, Path]) -> None:
    alert = {
        "status": "firing",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "api-7f9", "severity": "critical"},
        "annotations": {"summary": "api is crash looping"},
        "startsAt": "2026-01-01T00:00:00Z",
        "fingerprint": "abc123",
    }
    payload = json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()
    status, answer = _post(served[1], payload, {"Content-Type": "application/json"})
    assert status == 200, answer
    store = Store.open(f"sqlite:///{served[2] / 'aetherius.db'}")
    try:
        (incident,) = store.list_incidents()
        assert (incident.cluster, incident.namespace) == ("prod", "shop")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AETH_SLACK_BOT_TOKEN": "xoxb-1"}, "AETH_SLACK_SIGNING_SECRET is required in http mode"),
        (
            {"AETH_SLACK_BOT_TOKEN": "xoxb-1", "AETH_SLACK_MODE": "socket"},
            "AETH_SLACK_APP_TOKEN (xapp-...) is required",
        ),
        ({"AETH_SLACK_SIGNING_SECRET": "s"}, "AETH_SLACK_BOT_TOKEN is not set"),
    ],
)
def test_aeth_serve_without_the_credentials_of_its_mode_says_so_in_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AETH_SLACK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "aetherius.cli.main", "serve"],
        env={**clean, "AETH_DATA_DIR": str(tmp_path), "AETH_BROKER_URL": "redis://127.0.0.1:6379/14", **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [f"error: {proc.stderr.strip()[7:]}"]
    assert message in proc.stderr and "Traceback" not in proc.stderr

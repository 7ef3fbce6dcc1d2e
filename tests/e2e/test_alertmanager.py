"""A real Alertmanager delivers firing and resolved alerts to our receiver, with the bearer token."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.alerts.alerts import Alert
from collectors.alerts.receiving import AlertReceiver
from tests.e2e.peers import binary, free_port, running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]
TOKEN = "am-webhook-token-123"


def post_alert(api: str, *, ends_at: datetime | None = None) -> None:
    alert = {
        "labels": {
            "alertname": "KubePodCrashLooping",
            "namespace": "shop",
            "pod": "cart-7d9f8c6b5-x2k4q",
            "container": "cart",
            "severity": "warning",
            "cluster": "prod-eu",
        },
        "annotations": {"summary": "Pod shop/cart-7d9f8c6b5-x2k4q is crash looping"},
        "startsAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    if ends_at:
        alert["endsAt"] = ends_at.isoformat()
    req = urllib.request.Request(
        f"{api}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def test_real_alertmanager_delivers_firing_then_resolved_alerts(tmp_path: Path) -> None:
    exe = binary("prometheus-alertmanager", "alertmanager")
    got: list[Alert] = []
    arrived = threading.Condition()

    def sink(alerts: list[Alert]) -> None:
        with arrived:
            got.extend(alerts)
            arrived.notify_all()

    receiver = AlertReceiver(("127.0.0.1", 0), sink, token=TOKEN, cluster="default")
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    config = tmp_path / "alertmanager.yml"
    config.write_text(f"""
route:
  receiver: aetherius
  group_by: [alertname, namespace, pod]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: aetherius
    webhook_configs:
      - url: {receiver.url}/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {TOKEN}
""")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    cmd = [
        exe,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    try:
        with running(cmd, f"{api}/-/ready", tmp_path / "am.log"):
            post_alert(api)
            with arrived:
                assert arrived.wait_for(lambda: any(a.status == "firing" for a in got), timeout=30), "no firing alert"
            post_alert(api, ends_at=datetime.now(UTC) - timedelta(seconds=1))
            with arrived:
                assert arrived.wait_for(lambda: any(a.status == "resolved" for a in got), timeout=30), (
                    "no resolved alert"
                )
    finally:
        receiver.shutdown()
    firing = next(a for a in got if a.status == "firing")
    assert (firing.name, firing.family, firing.cluster, firing.namespace, firing.pod) == (
        "KubePodCrashLooping",
        "crash",
        "prod-eu",
        "shop",
        "cart-7d9f8c6b5-x2k4q",
    )
    assert receiver.rejected == 0


def test_a_wrong_token_is_refused_and_counted(tmp_path: Path) -> None:
    receiver = AlertReceiver(("127.0.0.1", 0), lambda alerts: None, token=TOKEN, cluster="c")
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        req = urllib.request.Request(
            f"{receiver.url}/alertmanager",
            data=b'{"version":"4","alerts":[]}',
            method="POST",
            headers={"Authorization": "Bearer nope"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 401
        time.sleep(0.05)
        assert receiver.rejected == 1
    finally:
        receiver.shutdown()

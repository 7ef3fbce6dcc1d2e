"""``aeth run`` and ``aeth incidents`` from a user's seat: a real process watching the fake API server through a
kubeconfig, receiving Alertmanager webhooks, diagnosing in-process and drawing threads on the console; then the
incident list as text and JSON. Bad input is one line, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aetherius.errors import AetheriusError
from aetherius.store import Store
from tests import builders
from tests.fakes import wait_until
from tests.fakes.kube import FakeKube
from tests.scenario.test_pipeline_parts import ROOT, free_port

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.slow, pytest.mark.timeout(120)]
TOKEN = "s3cret-webhook-token"


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETH_")}
    env.update(AETH_DATA_DIR=str(data_dir), AETH_CLUSTER_NAME="test", PYTHONUNBUFFERED="1", **extra)
    return env


def aeth(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "aetherius.cli.main", *args], capture_output=True, text=True,
                          env=env_for(data_dir), cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


@pytest.fixture
def running(kube: FakeKube, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    kube.create(builders.pod(statuses=[builders.crashlooping()]))
    kube.set_log("shop", "api-7d9f8c6b5-x2k4q", "api", "KeyError: 'DATABASE_URL'\n", previous=True)
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    port = free_port()
    env = env_for(tmp_path, AETH_WEBHOOK_PORT=str(port), AETH_WEBHOOK_TOKEN=TOKEN)
    command = [sys.executable, "-m", "aetherius.cli.main", "run", "--kubeconfig", str(kubeconfig), "--context", "fake"]
    proc = subprocess.Popen([*command, "--rules-only"], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        yield proc, port, tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def post(port: int, body: bytes, token: str = TOKEN) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/alertmanager", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    except OSError:
        return 0, {}


def states(data_dir: Path) -> dict[str, str]:
    if not (data_dir / "aetherius.db").exists():
        return {}
    store = Store.open(f"sqlite:///{data_dir / 'aetherius.db'}", migrate=False)
    try:
        return {i.workload: str(i.state) for i in store.list_incidents()}
    except AetheriusError:  # the schema may not be there yet while aeth run starts
        return {}
    finally:
        store.close()


def test_aeth_run_watches_diagnoses_and_draws_incidents_then_lists_them(running: Any) -> None:
    proc, port, data_dir = running
    assert wait_until(lambda: states(data_dir).get("Deployment/api") == "notified", timeout=60), proc.stderr
    alert = {
        "status": "firing", "labels": {"alertname": "KubePersistentVolumeFillingUp", "namespace": "db", "persistentvolumeclaim": "data-pg-0"},
        "annotations": {"summary": "PVC data-pg-0 is 97% full"}, "startsAt": "2025-03-02T10:00:00Z", "fingerprint": "pvc1",
    }  # fmt: skip
    assert post(port, b"{not json") == (
        400,
        {
            "error": "webhook body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        },
    )
    assert post(port, json.dumps({"version": "4", "alerts": [alert]}).encode(), token="wrong")[0] == 401
    assert post(port, json.dumps({"version": "4", "alerts": [alert]}).encode()) == (200, {"accepted": 1})
    assert wait_until(lambda: states(data_dir).get("PersistentVolumeClaim/data-pg-0") == "notified", timeout=30)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in out + err, err[-3000:]
    assert "api-7d9f8c6b5-x2k4q" in out and "Was this right?" in out  # the console thread
    assert "stopped; watch" in err

    listed = aeth("incidents", "--format", "json", data_dir=data_dir)
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {(r["workload"], r["state"], r["cluster"]) for r in records} == {
        ("Deployment/api", "notified", "test"),
        ("PersistentVolumeClaim/data-pg-0", "notified", "test"),
    }
    assert all(len(r["fingerprint"]) == 20 and r["occurrences"] >= 1 and r["first_seen"] for r in records)
    table = aeth("incidents", "--state", "notified", data_dir=data_dir).stdout
    assert "Deployment/api" in table and "fingerprint" in table
    assert "no incidents" in aeth("incidents", "--state", "resolved", data_dir=data_dir).stdout


def test_bad_options_and_unreachable_clusters_are_one_line(tmp_path: Path) -> None:
    bad_state = aeth("incidents", "--state", "exploded", data_dir=tmp_path)
    assert bad_state.returncode == 2 and "unknown state" in bad_state.stderr
    bad_format = aeth("incidents", "--format", "xml", data_dir=tmp_path)
    assert bad_format.returncode == 2 and "unknown format 'xml'" in bad_format.stderr
    bad_queue = aeth("worker", "--queues", "capture,gossip", data_dir=tmp_path)
    assert bad_queue.returncode == 2 and "unknown queue(s) ['gossip']" in bad_queue.stderr
    missing = aeth("run", "--kubeconfig", str(tmp_path / "nope"), "--no-webhook", data_dir=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert len(missing.stderr.strip().splitlines()) == 1

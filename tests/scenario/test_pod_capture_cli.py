"""``aeth snapshot pod/NAME`` and ``aeth diagnose pod/NAME`` as a user runs them: a subprocess, a kubeconfig
written by the test pointing at the fake API server over HTTP, and the collector's own capture behind both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.slow, pytest.mark.timeout(180)]

OOM = "ledger-6c9d8f7b4-q7t2m"
CONFIG = "orders-5f6d7c8b9-k2x4p"
CRASH_LOG = """Starting orders 1.4.2 with DATABASE_URL=postgres://orders:s3cr3t-Passw0rd@db:5432/orders
Traceback (most recent call last):
  File "/app/main.py", line 12, in <module>
    config = load("/etc/orders/config.yaml")
FileNotFoundError: [Errno 2] No such file or directory: '/etc/orders/config.yaml'
"""


def aeth(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AETH_DATA_DIR": str(data_dir), "AETH_CLUSTER_NAME": "fake"}
    proc = subprocess.run([sys.executable, "-m", "aetherius.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=150, check=False)  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]  # (the app log in a snapshot has its own)
    return proc


def cluster(kube: FakeKube) -> None:
    """An OOMKilled pod, and a pod crash-looping because its (optional) ConfigMap volume does not exist."""
    oom = builders.pod(OOM, statuses=[builders.crashlooping(exit_code=137, reason="OOMKilled", restarts=6)],
                       owner=("ReplicaSet", "ledger-6c9d8f7b4"))  # fmt: skip
    kube.create(oom)
    mounts = [{"name": "config", "mountPath": "/etc/orders"}]
    crash = builders.pod(CONFIG, statuses=[builders.crashlooping()], owner=("ReplicaSet", "orders-5f6d7c8b9"),
                         containers=[builders.container(volumeMounts=mounts)])  # fmt: skip
    crash["spec"]["volumes"] = [{"name": "config", "configMap": {"name": "orders-config", "optional": True}}]
    kube.create(crash)
    kube.set_log("shop", CONFIG, "api", CRASH_LOG, previous=True)


@pytest.fixture
def kubeconfig(kube: FakeKube, tmp_path: Path) -> str:
    cluster(kube)
    return str(kube.kubeconfig(tmp_path / "kubeconfig", context="fake"))


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1, (proc.returncode, proc.stderr)
    return lines[0]


def test_aeth_snapshot_writes_the_collectors_capture_redacted(kubeconfig: str, tmp_path: Path) -> None:
    out = tmp_path / "orders.json"
    proc = aeth("snapshot", f"pod/{CONFIG}", "-n", "shop", "--kubeconfig", kubeconfig, "-o", str(out),
                data_dir=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["kind"] == "Snapshot" and document["metadata"]["cluster"] == "fake"
    assert document["objects"][0]["metadata"]["name"] == CONFIG
    assert "configmaps/orders-config: not found" in document["metadata"]["skipped"]  # itself a clue
    (previous,) = [log for log in document["logs"] if log["previous"]]
    assert "FileNotFoundError" in previous["text"] and "s3cr3t-Passw0rd" not in out.read_text()
    stdout = aeth("snapshot", CONFIG, "-n", "shop", "--kubeconfig", kubeconfig, "--context", "fake", data_dir=tmp_path)
    assert stdout.returncode == 0 and json.loads(stdout.stdout)["objects"][0]["metadata"]["name"] == CONFIG


def test_aeth_diagnose_pod_names_the_cause_from_a_live_capture(kubeconfig: str, tmp_path: Path) -> None:
    found = {}
    for pod in (OOM, CONFIG):
        proc = aeth("diagnose", f"pod/{pod}", "-n", "shop", "--kubeconfig", kubeconfig, "--format", "json",
                    "--no-cases", data_dir=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        (line,) = proc.stdout.splitlines()
        result = json.loads(line)
        assert result["source"] == f"shop/pod/{pod}"
        found[pod] = result["diagnosis"]["category"]
    assert found == {OOM: "oom_killed", CONFIG: "config_error"}


def test_a_snapshot_written_by_aeth_snapshot_diagnoses_like_the_pod_itself(kubeconfig: str, tmp_path: Path) -> None:
    out = tmp_path / "ledger.json"
    assert aeth("snapshot", f"pod/{OOM}", "-n", "shop", "--kubeconfig", kubeconfig, "-o", str(out),
                data_dir=tmp_path).returncode == 0  # fmt: skip
    from_file = aeth("diagnose", "-s", str(out), "--format", "json", "--no-cases", data_dir=tmp_path)
    live = aeth("diagnose", f"pod/{OOM}", "-n", "shop", "--kubeconfig", kubeconfig, "--format", "json",
                "--no-cases", data_dir=tmp_path)  # fmt: skip
    file_diagnosis = json.loads(from_file.stdout)["diagnosis"]
    live_diagnosis = json.loads(live.stdout)["diagnosis"]
    assert file_diagnosis == live_diagnosis and live_diagnosis["category"] == "oom_killed"


def test_cluster_errors_print_one_line_and_exit_non_zero(kube: FakeKube, kubeconfig: str, tmp_path: Path) -> None:
    gone = aeth("snapshot", "pod/deleted-7d9f8c6b5-zzzzz", "-n", "shop", "--kubeconfig", kubeconfig, data_dir=tmp_path)
    assert "deleted before it could be captured" in one_error_line(gone)
    kube.fail("get", f"/api/v1/namespaces/shop/pods/{OOM}", 403)
    forbidden = aeth("snapshot", f"pod/{OOM}", "-n", "shop", "--kubeconfig", kubeconfig, data_dir=tmp_path)
    assert "forbidden" in one_error_line(forbidden) and "grant" in forbidden.stderr
    diagnosed = aeth("diagnose", f"pod/{OOM}", "-n", "shop", "--kubeconfig", kubeconfig, "--no-cases",
                     data_dir=tmp_path)  # fmt: skip
    assert "forbidden" in one_error_line(diagnosed) and diagnosed.stdout == ""
    as_json = aeth("diagnose", f"pod/{OOM}", "-n", "shop", "--kubeconfig", kubeconfig, "--format", "json",
                   "--no-cases", data_dir=tmp_path)  # fmt: skip
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["source"] == f"shop/pod/{OOM}"
    assert "forbidden" in json.loads(as_json.stdout)["error"]


def test_a_server_that_is_down_or_a_bad_kubeconfig_is_one_line(kube: FakeKube, tmp_path: Path) -> None:
    down = kube.kubeconfig(tmp_path / "down", context="fake")
    config = json.loads(down.read_text())
    config["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"  # nobody listens there
    down.write_text(json.dumps(config))
    unreachable = aeth("snapshot", f"pod/{OOM}", "-n", "shop", "--kubeconfig", str(down), data_dir=tmp_path)
    assert "connection failed" in one_error_line(unreachable)
    missing = aeth("snapshot", f"pod/{OOM}", "--kubeconfig", str(tmp_path / "nope"), data_dir=tmp_path)
    assert "cannot load Kubernetes credentials" in one_error_line(missing)
    wrong_context = aeth("snapshot", OOM, "--kubeconfig", str(down), "--context", "prod", data_dir=tmp_path)
    assert "context 'prod'" in one_error_line(wrong_context)
    not_a_pod = aeth("snapshot", "deployment/ledger", "-n", "shop", "--kubeconfig", str(down), data_dir=tmp_path)
    assert "is not a pod" in one_error_line(not_a_pod)
    nothing = aeth("diagnose", "--no-cases", data_dir=tmp_path)
    assert nothing.returncode == 2 and "give a pod" in nothing.stderr

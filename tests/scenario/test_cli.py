"""The ``aeth`` CLI from a user's seat: bad input, secrets, several files, stdin — never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.unit.knowledge.redaction_fixtures import SEEDED_SECRETS
from tests.unit.knowledge.redaction_fixtures import seeded_snapshot as seeded_fixture

pytestmark = [pytest.mark.scenario, pytest.mark.slow]


def aeth(*args: str, data_dir: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AETH_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "aetherius.cli.main", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aeth-cli")


def write(folder: Path, name: str, doc: Any) -> str:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def seeded_snapshot() -> dict[str, Any]:
    doc = seeded_fixture()
    pod = doc["objects"][0]
    for obj in doc["objects"]:
        if obj["kind"] == "Event":
            obj["involvedObject"] = {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": "shop"}
            obj["type"] = "Warning"
    pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    doc["logs"][0]["previous"] = True
    return {"kind": "Snapshot", "metadata": {"name": "seeded", "capturedAt": b.CAPTURED}, **doc}


def test_no_seeded_secret_reaches_json_or_text_output(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path, "seeded.json", seeded_snapshot())
    for fmt in ("json", "text"):
        proc = aeth("diagnose", "--snapshot", path, "--format", fmt, data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        leaked = [s for s in SEEDED_SECRETS if s in proc.stdout or s in proc.stderr]
        assert leaked == [], f"{fmt} output leaked {len(leaked)} secrets"
    assert len(set(SEEDED_SECRETS)) >= 20


def test_bad_files_get_one_line_each_and_the_good_ones_still_run(tmp_path: Path, data_dir: Path) -> None:
    good = write(tmp_path, "good.json", b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=137, reason="OOMKilled")])))
    truncated = write(tmp_path, "truncated.json", json.dumps(b.snapshot(b.pod()))[:-30])
    deployment = write(
        tmp_path, "deploy.json", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}}
    )
    empty = write(tmp_path, "empty.json", "{}")
    binary = tmp_path / "core.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    proc = aeth(
        "diagnose",
        "-s",
        truncated,
        "-s",
        good,
        "-s",
        deployment,
        "-s",
        empty,
        "-s",
        str(binary),
        "--format",
        "json",
        data_dir=data_dir,
    )
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["source"] for line in lines] == [truncated, good, deployment, empty, str(binary)]
    assert lines[1]["diagnosis"]["category"] == "oom_killed"
    errors = {line["source"]: line["error"] for line in lines if "error" in line}
    assert "invalid JSON" in errors[truncated]
    assert "not a Pod" in errors[deployment]
    assert "binary" in errors[str(binary)]
    assert all("\n" not in message for message in errors.values())


def test_text_errors_go_to_stderr_as_one_line(tmp_path: Path, data_dir: Path) -> None:
    proc = aeth("diagnose", "-s", str(tmp_path / "missing.json"), "--no-cases", data_dir=data_dir)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no such file" in proc.stderr


def test_events_for_another_pod_give_an_honest_unknown(tmp_path: Path, data_dir: Path) -> None:
    doc = b.snapshot(
        b.pod(), b.event("BackOff", "Back-off restarting failed container", name="someone-else-x1", count=40)
    )
    proc = aeth("diagnose", "-s", write(tmp_path, "other.json", doc), "--format", "json", data_dir=data_dir)
    assert json.loads(proc.stdout)["diagnosis"]["category"] == "unknown"


def test_a_kubectl_list_is_read_from_stdin(data_dir: Path) -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            b.pod(
                phase="Pending", statuses=[b.waiting(reason="ImagePullBackOff", message='Back-off pulling image "x"')]
            ),
            b.event("Failed", 'Failed to pull image "x": rpc error: code = NotFound desc = manifest unknown'),
        ],
    }
    proc = aeth("diagnose", "-s", "-", "--format", "json", data_dir=data_dir, stdin=json.dumps(listing).encode())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["diagnosis"]["category"] == "image_pull"

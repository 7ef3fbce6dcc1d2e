"""Noise stays quiet: through the real watcher, capture and intake (fake API server over HTTP, SQLite store), a
healthy rollout, a completed Job and a pod that was OOMKilled hours ago open no incident — while a real crash
loop next to them opens exactly one, so the quiet is the detector's judgement and not a broken pipe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aetherius.store import Store
from collectors.kube.capturing import CapturingSink
from collectors.kube.clients import ClusterReader
from collectors.kube.watching import Watcher
from collectors.storms import StormControl
from tasks.intake import Intake
from tests import builders
from tests.fakes import NOW, wait_until
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(60)]
READY = [{"type": "Ready", "status": "True"}]


class Queue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, task: str, kwargs: dict[str, Any]) -> None:
        self.jobs.append((task, kwargs))


@pytest.fixture
def pipeline(reader: ClusterReader, kube: FakeKube, tmp_path: Path) -> Iterator[tuple[Store, Intake, Queue]]:
    store = Store.open(f"sqlite:///{tmp_path / 'aetherius.db'}")
    queue = Queue()
    intake = Intake(store, queue, StormControl(10, 60.0))
    watcher = Watcher(reader, CapturingSink(reader, intake.hand_over), cluster="test", kinds=("pods", "events"),
                      watch_timeout_s=2, now=lambda: NOW)  # fmt: skip
    thread = threading.Thread(target=watcher.run, name="watcher")
    thread.start()
    try:
        assert wait_until(lambda: {"pods", "events"} <= set(watcher.resource_versions)), "no initial list"
        yield store, intake, queue
        target = kube.resource_version
        assert wait_until(lambda: all(int(watcher.resource_versions.get(k) or 0) >= target for k in ("pods", "events")))
    finally:
        watcher.stop()
        thread.join(10)
        store.close()
    assert watcher.counters.reconciles(), watcher.counters
    assert intake.counters.reconciles(), intake.counters


def healthy_rollout(kube: FakeKube) -> None:
    old, new = "api-5c6d7e8f9-aaaaa", "api-7d9f8c6b5-bbbbb"
    kube.apply(builders.pod(old, owner=("ReplicaSet", "api-5c6d7e8f9"), conditions=READY))
    kube.apply(
        builders.pod(new, statuses=[builders.running(ready=False)], conditions=[{"type": "Ready", "status": "False"}])
    )
    for reason, message, pod in (
        ("Scheduled", f"Successfully assigned shop/{new} to worker-1", new),
        ("Pulled", 'Container image "registry.example.com/api:1.1" already present on machine', new),
        ("Created", "Created container api", new),
        ("Started", "Started container api", new),
        ("Killing", "Stopping container api", old),
    ):
        event = builders.event(reason, message, type="Normal", name=pod)
        event["metadata"]["name"] = f"{pod}.{reason.lower()}"
        kube.apply(event)
    blip = builders.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", name=new)
    blip["metadata"]["name"] = f"{new}.unhealthy"
    kube.apply(blip)  # one readiness failure while the new pod warms up
    kube.apply(builders.pod(new, conditions=READY))
    kube.delete("v1", "Pod", "shop", old)


def completed_job(kube: FakeKube) -> None:
    done = builders.running("migrate", ready=False)
    done["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2025-03-02T10:12:00Z"}}
    kube.apply(builders.pod("migrate-x7k2p", phase="Succeeded", owner=("Job", "migrate"), statuses=[done]))
    event = builders.event("Completed", "Job completed", type="Normal", kind="Job", name="migrate")
    event["metadata"]["name"] = "migrate.completed"
    kube.apply(event)


def oom_killed_hours_ago(kube: FakeKube) -> None:
    last = {
        "reason": "OOMKilled",
        "exitCode": 137,
        "startedAt": "2025-03-01T20:00:00Z",
        "finishedAt": "2025-03-02T06:00:00Z",
    }
    kube.apply(builders.pod("cache-6b7c8d9e0-ccccc", owner=("ReplicaSet", "cache-6b7c8d9e0"), conditions=READY,
                            statuses=[builders.running(restarts=1, last=last)]))  # fmt: skip


def test_a_healthy_rollout_opens_no_incident(kube: FakeKube, pipeline: tuple[Store, Intake, Queue]) -> None:
    store, intake, queue = pipeline
    healthy_rollout(kube)
    assert store.list_incidents() == [] and queue.jobs == []


def test_a_completed_job_and_an_old_oom_kill_open_no_incident(
    kube: FakeKube, pipeline: tuple[Store, Intake, Queue]
) -> None:
    store, intake, queue = pipeline
    completed_job(kube)
    oom_killed_hours_ago(kube)
    assert store.list_incidents() == [] and queue.jobs == []


def test_among_the_noise_a_real_crash_loop_opens_exactly_one_incident(
    kube: FakeKube, pipeline: tuple[Store, Intake, Queue]
) -> None:
    store, intake, queue = pipeline
    healthy_rollout(kube)
    completed_job(kube)
    oom_killed_hours_ago(kube)
    for restarts in (3, 4, 5):
        kube.apply(builders.pod("web-7d9f8c6b5-ddddd", owner=("ReplicaSet", "web-7d9f8c6b5"),
                                statuses=[builders.crashlooping(restarts=restarts)]))  # fmt: skip
    assert wait_until(lambda: len(queue.jobs) == 1)
    (incident,) = store.list_incidents()
    assert (incident.workload, incident.family, incident.occurrences) == ("Deployment/web", "crash", 1)
    assert queue.jobs == [("aeth.analyze", {"incident_id": incident.id})]
    assert store.latest_snapshot(incident.id) is not None

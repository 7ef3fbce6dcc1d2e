"""A real ``aeth worker`` (Celery, prefork) against our own ``redis-server``, on SQLite and PostgreSQL.

The test process plays the collector: detections and alerts go through the real `Intake`, which stores them and
publishes task ids to Redis with `CeleryEnqueuer`. The worker process consumes them, captures pods from the fake
API server over HTTP, diagnoses (rules), and draws threads with the console notifier. Everything is checked
in the store, the one place both processes share.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aetherius.incidents import IncidentState
from aetherius.settings import Settings
from aetherius.store import Store
from collectors.alerts.alerts import parse_payload
from collectors.storms import StormControl
from tasks.app import make_celery
from tasks.enqueuing import CeleryEnqueuer
from tasks.intake import Intake
from tasks.routing import ANALYZE
from tests import builders
from tests.fakes import wait_until
from tests.fakes.kube import FakeKube
from tests.fakes.slack import FakeSlack
from tests.scenario.test_pipeline_parts import (
    ROOT,
    RedisServer,
    WorkerProcess,
    crash_snapshot,
    detection,
    free_port,
    store_at,
    worker_env,
)

pytest_plugins = ["tests.fakes.fixtures", "tests.scenario.test_pipeline_parts"]
pytestmark = [pytest.mark.scenario, pytest.mark.slow, pytest.mark.timeout(240)]
S = IncidentState


class Rig:
    """One store, one broker, one producer; workers started on demand."""

    def __init__(self, store: Store, url: str, redis_server: RedisServer, tmp_path: Path, **env: str) -> None:
        self.store, self.url, self.redis, self.tmp_path = store, url, redis_server, tmp_path
        self.env = worker_env(tmp_path, redis_server.url, url, **env)
        self.celery = make_celery(Settings(broker_url=redis_server.url, data_dir=tmp_path))
        self.intake = Intake(store, CeleryEnqueuer(self.celery), StormControl(1000, 60.0), can_capture=lambda c: True)
        self.workers: list[WorkerProcess] = []

    def worker(self, *args: str) -> WorkerProcess:
        process = WorkerProcess(self.env, self.tmp_path / f"worker-{len(self.workers)}.log", args).start()
        self.workers.append(process)
        return process

    def wait(self, predicate: Any, what: str, timeout: float = 90) -> None:
        logs = "\n".join(w.log()[-3000:] for w in self.workers)
        assert wait_until(predicate, timeout=timeout, interval=0.2), f"{what}; worker log tail:\n{logs}"

    def states(self) -> dict[int, S]:
        return {i.id: i.state for i in self.store.list_incidents(limit=10_000)}

    def all_notified(self, n: int) -> bool:
        found = self.states()
        return len(found) == n and all(s is S.NOTIFIED for s in found.values())

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.celery.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def rig(
    request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path: Path, kube_settings: Settings
) -> Iterator[Rig]:
    with store_at(request.param, tmp_path) as (store, url):
        built = Rig(
            store, url, redis_server, tmp_path,
            AETH_KUBECONFIG=str(kube_settings.kubeconfig), AETH_KUBE_CONTEXT="fake", AETH_CLUSTER_NAME="test",
        )  # fmt: skip
        try:
            yield built
        finally:
            built.close()


def diagnoses_of(store: Store, incident_id: int) -> int:
    return sum(e.kind == "diagnosis.saved" for e in store.audit_log(incident_id=incident_id, limit=500))


def test_a_real_worker_takes_detections_to_diagnosed_and_notified_incidents(rig: Rig) -> None:
    worker = rig.worker()
    for n, name in enumerate(("api", "api", "web")):
        pod = f"{name}-7d9f8c6b5-pod{n}"
        rig.intake.hand_over(detection(name, pod=pod, version=str(n)), crash_snapshot(pod), None)
    rig.wait(lambda: rig.all_notified(2), "two incidents should end notified")
    for incident in rig.store.list_incidents():
        assert incident.category not in (None, "unknown") and diagnoses_of(rig.store, incident.id) == 1
        assert incident.slack_ts == f"incident-{incident.id}"  # the console notifier's thread id
    assert {i.occurrences for i in rig.store.list_incidents()} == {1, 2}
    assert wait_until(lambda: "Was this right?" in worker.log(), timeout=10)  # the thread was drawn


def alert(pod: str, status: str = "firing") -> bytes:
    body = {
        "status": status, "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": pod, "deployment": pod.split("-")[0]},
        "annotations": {"summary": f"{pod} is crash looping"}, "startsAt": "2025-03-02T10:00:00Z", "fingerprint": pod,
    }  # fmt: skip
    return json.dumps({"version": "4", "alerts": [body]}).encode()


def test_a_capture_that_fails_for_now_is_retried_then_succeeds(rig: Rig, kube: FakeKube) -> None:
    pod = "api-7d9f8c6b5-x2k4q"
    kube.create(builders.pod(pod, statuses=[builders.crashlooping()]))
    kube.set_log("shop", pod, "api", "KeyError: 'DATABASE_URL'\n", previous=True)
    outage = kube.fail("get", f"/api/v1/namespaces/shop/pods/{pod}", 503, times=2)
    rig.worker()
    rig.intake.receive_alerts(parse_payload(alert(pod), default_cluster="test"))
    rig.wait(lambda: rig.all_notified(1), "the alert's incident should end notified after retries")
    (incident,) = rig.store.list_incidents()
    assert outage.hits == 2 and rig.store.latest_snapshot(incident.id) is not None
    assert rig.store.dead_letters() == [] and incident.category != "unknown"


def test_permanent_errors_write_dead_letters_and_no_incident_is_lost(rig: Rig, kube: FakeKube) -> None:
    pod = "api-7d9f8c6b5-x2k4q"
    kube.create(builders.pod(pod, statuses=[builders.crashlooping()]))
    kube.fail("get", f"/api/v1/namespaces/shop/pods/{pod}", 403)
    rig.worker()
    rig.intake.receive_alerts(parse_payload(alert(pod), default_cluster="test"))
    CeleryEnqueuer(rig.celery)(ANALYZE, {"incident_id": 424242})  # a stale or mistyped id
    rig.wait(lambda: rig.all_notified(1), "a forbidden capture still ends in a notified incident")
    rig.wait(lambda: len(rig.store.dead_letters()) == 1, "the unknown id should be dead-lettered")
    (letter,) = rig.store.dead_letters()
    assert (letter.task, letter.payload) == ("aeth.analyze", {"incident_id": 424242})
    assert "no incident #424242" in letter.error
    (incident,) = rig.store.list_incidents()
    assert any(e.kind == "capture.failed" for e in rig.store.audit_log(incident_id=incident.id))


def test_killing_redis_mid_run_loses_no_incident(rig: Rig) -> None:
    rig.worker()
    for n in range(10):
        rig.intake.hand_over(detection(f"svc{n}"), crash_snapshot(f"svc{n}-7d9f8c6b5-x2k4q"), None)
    rig.wait(lambda: sum(s is S.NOTIFIED for s in rig.states().values()) >= 1, "work should have started")
    rig.redis.kill()  # no persistence: every queued message is gone
    stored_while_down = 0
    for n in range(10, 14):
        try:
            rig.intake.hand_over(detection(f"svc{n}"), crash_snapshot(f"svc{n}-7d9f8c6b5-x2k4q"), None)
        except Exception as err:  # the enqueue fails *after* the incident is stored
            assert "broker unreachable" in str(err)
            stored_while_down += 1
    assert stored_while_down == 4 and len(rig.states()) == 14
    rig.redis.start()
    rig.wait(lambda: rig.all_notified(14), "every incident should end notified after Redis came back")
    assert rig.intake.counters.enqueue_failures == 4


def test_killing_a_worker_mid_run_loses_no_incident(rig: Rig) -> None:
    total = 60
    for n in range(total):  # queued before the worker starts, so it is surely busy when it is killed
        rig.intake.hand_over(detection(f"svc{n}"), crash_snapshot(f"svc{n}-7d9f8c6b5-x2k4q"), None)
    first = rig.worker()
    assert wait_until(lambda: any(s is S.NOTIFIED for s in rig.states().values()), timeout=60, interval=0.01)
    first.kill()  # SIGKILL to the worker and its pool: unacknowledged messages stay with Redis
    assert not rig.all_notified(total), "the worker finished before it could be killed; the test proves nothing"
    rig.worker()
    rig.wait(lambda: rig.all_notified(total), "every incident should end notified by the second worker")
    for incident_id in rig.states():
        assert diagnoses_of(rig.store, incident_id) >= 1


def test_aeth_collect_and_aeth_worker_take_a_crash_loop_to_a_notified_incident(
    rig: Rig, kube: FakeKube, kube_settings: Settings
) -> None:
    kube.create(builders.pod(statuses=[builders.crashlooping()]))
    kube.set_log("shop", "api-7d9f8c6b5-x2k4q", "api", "KeyError: 'DATABASE_URL'\n", previous=True)
    rig.worker()
    metrics_port = free_port()
    env = {**rig.env, "AETH_LEADER_ELECTION": "false", "AETH_METRICS_PORT": str(metrics_port), "AETH_HEARTBEAT_S": "1"}
    command = [sys.executable, "-m", "aetherius.cli.main", "collect", "--kubeconfig", str(kube_settings.kubeconfig)]
    log_path = rig.tmp_path / "collect.log"
    with log_path.open("wb") as log:
        collector = subprocess.Popen(
            [*command, "--context", "fake"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        rig.wait(lambda: rig.all_notified(1), "the collector's incident should end notified by the worker")
        (incident,) = rig.store.list_incidents()
        assert (incident.workload, incident.cluster) == ("Deployment/api", "test")
        assert rig.store.latest_snapshot(incident.id) is not None  # captured by the collector at detection time
        assert wait_until(lambda: [c.name for c in rig.store.list_clusters()] == ["test"], timeout=10)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            scraped = response.read().decode()
        assert 'aetherius_incidents_opened_total{cluster="test"} 1.0' in scraped
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(30)
    text = log_path.read_text()
    assert collector.returncode == 0 and "Traceback" not in text, text[-3000:]
    assert "stopped; intake" in text


def test_a_worker_with_a_slack_token_posts_the_thread_to_slack(rig: Rig) -> None:
    with FakeSlack() as slack:
        rig.env.update(
            AETH_SLACK_BOT_TOKEN="xoxb-test", AETH_SLACK_API_URL=slack.url, AETH_SLACK_DEFAULT_CHANNEL="C0INCIDENTS"
        )
        rig.worker()
        rig.intake.hand_over(detection(), crash_snapshot(), None)
        rig.wait(lambda: rig.all_notified(1), "the incident should end notified through Slack")
        (incident,) = rig.store.list_incidents()
        roots = [c for c in slack.posts("C0INCIDENTS") if "thread_ts" not in c.params]
        assert len(roots) == 1 and incident.slack_channel == "C0INCIDENTS" and incident.slack_ts is not None


def test_a_celery_worker_that_dies_is_restarted_by_aeth_worker_and_finishes_the_work(rig: Rig) -> None:
    supervisor = rig.worker()
    assert supervisor.process is not None
    children = Path(f"/proc/{supervisor.process.pid}/task/{supervisor.process.pid}/children")
    assert wait_until(lambda: children.read_text().split() != [], timeout=10)
    celery_main = int(children.read_text().split()[0])
    rig.intake.hand_over(detection("before"), crash_snapshot("before-7d9f8c6b5-x2k4q"), None)
    rig.wait(lambda: rig.all_notified(1), "the first incident should be handled")
    os.kill(celery_main, signal.SIGKILL)  # the Celery worker, not its supervisor
    assert wait_until(lambda: children.read_text().split() not in ([], [str(celery_main)]), timeout=30)
    rig.intake.hand_over(detection("after"), crash_snapshot("after-7d9f8c6b5-x2k4q"), None)
    rig.wait(lambda: rig.all_notified(2), "the restarted worker should handle the next incident")
    assert "restarting it in" in supervisor.log()

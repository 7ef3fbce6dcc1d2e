"""The pipeline in one process (``aeth run``'s shape) on real stores: SQLite and PostgreSQL, same tests.

Detections and alerts go through the real `Intake` into the store; the in-process queue runs the real stage
functions (rules-only diagnosis engine) and the retry policy; notifications go through the Notifier port.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from aetherius.diagnoses import Diagnosis
from aetherius.errors import ApiUnavailable, ConfigurationError, StoreUnavailable
from aetherius.incidents import IncidentState
from aetherius.settings import Settings
from aetherius.snapshots import Snapshot
from aetherius.store import IncidentView, Store
from aetherius.store.views import DUPLICATES, OCCURRENCES
from bot.notifying import ConsoleNotifier, Notifier, Posted
from bot.threads import Thread
from collectors.alerts.alerts import parse_payload
from collectors.storms import StormControl
from knowledge.engine import DiagnosisEngine
from tasks import stages
from tasks.embedded import InProcessQueue
from tasks.intake import Intake
from tasks.policy import RetryPolicy
from tasks.reconciling import Reconciler
from tasks.routing import NOTIFY
from tasks.stages import Pipeline
from tests.scenario.test_pipeline_parts import RecordingNotifier, crash_snapshot, detection, states, store_at

pytestmark = [pytest.mark.scenario, pytest.mark.timeout(120)]
S = IncidentState


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_at(request.param, tmp_path) as (opened, _):
        yield opened


class Embedded:
    def __init__(self, store: Store, notifier: Notifier, *, storm_threshold: int = 100) -> None:
        engine = DiagnosisEngine(None, None)
        self.queue = InProcessQueue(lambda: self.pipeline, RetryPolicy(max_retries=2, base_s=0.01))
        self.pipeline = Pipeline(store, engine.diagnose, notifier, self.queue)
        self.intake = Intake(store, self.queue, StormControl(storm_threshold, 60.0), clock=lambda: 0.0)
        self.store = store

    def __enter__(self) -> Embedded:
        self.queue.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.queue.stop()

    def settle(self) -> None:
        assert self.queue.wait_idle(30), "the embedded queue did not drain"


def diagnoses_of(store: Store, incident_id: int) -> int:
    return sum(e.kind == "diagnosis.saved" for e in store.audit_log(incident_id=incident_id, limit=500))


def test_a_detection_becomes_one_diagnosed_and_notified_incident(store: Store) -> None:
    notifier = RecordingNotifier()
    with Embedded(store, notifier) as run:
        run.intake.hand_over(detection(), crash_snapshot(), None)
        run.settle()
    (incident,) = store.list_incidents()
    assert (incident.state, incident.workload, incident.family) == (S.NOTIFIED, "Deployment/api", "crash")
    assert incident.category not in (None, "unknown") and diagnoses_of(store, incident.id) == 1
    assert notifier.posted == [incident.id] and incident.slack_ts is not None
    assert store.latest_snapshot(incident.id) is not None
    assert [t.to_state for t in store.transitions(incident.id)] == [S.OPEN, S.DIAGNOSED, S.NOTIFIED]


def test_repeats_from_other_pods_of_the_workload_add_occurrences_not_incidents(store: Store) -> None:
    notifier = RecordingNotifier()
    with Embedded(store, notifier) as run:
        for n in range(3):
            pod = f"api-7d9f8c6b5-pod{n}"
            run.intake.hand_over(detection(pod=pod, version=str(n)), crash_snapshot(pod), None)
        run.intake.hand_over(detection(pod="api-7d9f8c6b5-pod0", version="0"), None, None)  # a replay
        run.settle()
    (incident,) = store.list_incidents()
    assert incident.occurrences == 3 and notifier.posted == [incident.id]
    counts = store.counters()
    assert (counts[(OCCURRENCES, "test")], counts[(DUPLICATES, "test")]) == (3, 1)
    assert run.intake.counters.reconciles() and run.intake.counters.recorded == 4


def test_running_each_stage_twice_gives_one_diagnosis_and_one_thread(store: Store) -> None:
    notifier = RecordingNotifier()
    run = Embedded(store, notifier)  # queue not started: the stages are called by hand
    run.intake.hand_over(detection(), crash_snapshot(), None)
    (incident,) = store.list_incidents()
    assert "diagnosed" in stages.analyze(run.pipeline, incident.id)
    assert "already diagnosed" in stages.analyze(run.pipeline, incident.id)
    stages.notify(run.pipeline, incident.id)
    stages.notify(run.pipeline, incident.id)
    assert diagnoses_of(store, incident.id) == 1
    assert (notifier.posted, notifier.updated) == ([incident.id], [incident.id])
    assert store.get_incident(incident.id).state is S.NOTIFIED


def test_two_runs_that_diagnose_the_same_incident_at_once_save_one_diagnosis_and_notify_once(store: Store) -> None:
    both_diagnosing = threading.Barrier(2, timeout=30)
    engine = DiagnosisEngine(None, None)

    def diagnose_in_lockstep(snapshot: Snapshot) -> Diagnosis:
        diagnosis = engine.diagnose(snapshot)
        both_diagnosing.wait()  # both runs have passed the "is it open?" check before either saves
        return diagnosis

    notifier = RecordingNotifier()
    run = Embedded(store, notifier)  # queue not started: the stages are called by hand
    enqueued: list[str] = []
    run.intake.hand_over(detection(), crash_snapshot(), None)
    run.pipeline = replace(run.pipeline, diagnose=diagnose_in_lockstep, enqueue=lambda task, _: enqueued.append(task))
    (incident,) = store.list_incidents()
    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: stages.analyze(run.pipeline, incident.id), range(2)))
    assert "diagnosed #" in outcomes[0] and "concurrent run" in outcomes[1]
    assert diagnoses_of(store, incident.id) == 1
    assert [t.to_state for t in store.transitions(incident.id)] == [S.OPEN, S.DIAGNOSED]
    assert enqueued == [NOTIFY]


class FlakyNotifier(RecordingNotifier):
    def __init__(self, failures: list[Exception]) -> None:
        super().__init__()
        self.failures = failures

    def post_incident(self, incident: IncidentView, thread: Thread) -> Posted:
        if self.failures:
            raise self.failures.pop(0)
        return super().post_incident(incident, thread)


def test_a_temporary_error_is_retried_with_back_off_then_succeeds(store: Store) -> None:
    notifier = FlakyNotifier([ApiUnavailable("Slack answered 503"), StoreUnavailable("still busy")])
    with Embedded(store, notifier) as run:
        run.intake.hand_over(detection(), crash_snapshot(), None)
        run.settle()
    (incident,) = store.list_incidents()
    assert incident.state is S.NOTIFIED and notifier.posted == [incident.id]
    assert store.dead_letters() == []


def test_a_permanent_error_writes_a_dead_letter_and_the_incident_stays(store: Store) -> None:
    notifier = FlakyNotifier([ConfigurationError("channel_not_found: #nowhere")])
    with Embedded(store, notifier) as run:
        run.intake.hand_over(detection(), crash_snapshot(), None)
        run.settle()
    (incident,) = store.list_incidents()
    (letter,) = store.dead_letters()
    assert (letter.task, letter.payload, letter.error) == (
        "aeth.notify",
        {"incident_id": incident.id},
        "channel_not_found: #nowhere",
    )
    assert incident.state is S.DIAGNOSED and notifier.posted == []


def test_retries_that_run_out_become_a_dead_letter(store: Store) -> None:
    notifier = FlakyNotifier([ApiUnavailable("Slack answered 503")] * 5)
    with Embedded(store, notifier) as run:
        run.intake.hand_over(detection(), crash_snapshot(), None)
        run.settle()
    (letter,) = store.dead_letters()
    assert letter.error.startswith("gave up after 3 attempts: Slack answered 503")


def test_a_pod_deleted_before_capture_still_reaches_people_with_the_reason(store: Store) -> None:
    notifier = RecordingNotifier()
    with Embedded(store, notifier) as run:
        run.intake.hand_over(detection(), None, "pod shop/api-7d9f8c6b5-x2k4q not found: it was deleted")
        run.settle()
    (incident,) = store.list_incidents()
    assert incident.state is S.NOTIFIED and incident.category == "unknown"
    assert "No snapshot" in notifier.threads[incident.id].summary
    assert any(e.kind == "capture.failed" for e in store.audit_log(incident_id=incident.id))


def test_a_burst_in_one_namespace_rolls_up_into_one_storm_thread(store: Store) -> None:
    notifier = RecordingNotifier()
    with Embedded(store, notifier, storm_threshold=2) as run:
        for n in range(6):
            run.intake.hand_over(detection(f"svc{n}"), crash_snapshot(f"svc{n}-7d9f8c6b5-x2k4q"), None)
        run.settle()
    incidents = store.list_incidents()
    (storm,) = [i for i in incidents if i.family == "storm"]
    members = [i for i in incidents if i.storm_id == storm.id]
    alone = [i for i in incidents if i.family != "storm" and i.storm_id is None]
    assert (len(members), len(alone), storm.occurrences) == (4, 2, 4)
    assert sorted(notifier.posted) == sorted([storm.id, *(i.id for i in alone)])  # 3 threads, not 6
    assert all(m.state is S.DIAGNOSED for m in members)  # diagnosed; their thread is the storm's
    assert "4 new incidents" in notifier.threads[storm.id].summary
    assert run.intake.counters.storm_members == 4 and run.intake.counters.reconciles()


def alert_payload(status: str, **labels: str) -> bytes:
    alert = {
        "status": status, "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "api-7d9f8c6b5-x2k4q", "deployment": "api", **labels},
        "annotations": {"summary": "Pod shop/api is crash looping"}, "startsAt": "2025-03-02T10:00:00Z",
        "endsAt": "2025-03-02T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z", "fingerprint": "abc123",
    }  # fmt: skip
    return json.dumps({"version": "4", "status": status, "alerts": [alert]}).encode()


def test_alerts_open_an_incident_and_their_resolution_resolves_it(store: Store) -> None:
    notifier = RecordingNotifier()
    with Embedded(store, notifier) as run:
        run.intake.receive_alerts(parse_payload(alert_payload("firing"), default_cluster="test"))
        run.intake.receive_alerts(parse_payload(alert_payload("firing"), default_cluster="test"))  # repeat_interval
        run.settle()
        (incident,) = store.list_incidents()
        assert incident.state is S.NOTIFIED and incident.workload == "Deployment/api"
        run.intake.receive_alerts(parse_payload(alert_payload("resolved"), default_cluster="test"))
        run.intake.receive_alerts(parse_payload(alert_payload("resolved"), default_cluster="test"))
        run.settle()
    assert store.get_incident(incident.id).state is S.RESOLVED
    assert notifier.resolved == [(incident.id, "KubePodCrashLooping resolved")]
    counters = run.intake.counters
    assert (counters.received, counters.recorded, counters.filtered, counters.resolved) == (4, 3, 1, 1)
    assert counters.reconciles()


def test_the_reconciler_enqueues_what_a_failed_enqueue_left_waiting(store: Store) -> None:
    notifier = RecordingNotifier()

    def broker_down(task: str, kwargs: dict[str, Any]) -> None:
        raise StoreUnavailable("task broker unreachable")

    run = Embedded(store, notifier)
    offline = Intake(store, broker_down, StormControl(100, 60.0))
    with pytest.raises(StoreUnavailable):
        offline.hand_over(detection(), crash_snapshot(), None)
    assert offline.counters.enqueue_failures == 1 and list(states(store).values()) == ["open"]  # stored, not lost
    with run:
        reconciler = Reconciler(store, run.queue)
        assert reconciler.run_once() == 0  # first pass: only notes what waits
        assert reconciler.run_once() == 1  # still waiting: stuck, enqueued again
        run.settle()
    assert list(states(store).values()) == ["notified"]


def test_the_console_notifier_draws_the_thread(store: Store) -> None:
    out = io.StringIO()
    with Embedded(store, ConsoleNotifier(Console(file=out, width=120))) as run:
        run.intake.hand_over(detection(), crash_snapshot(), None)
        run.settle()
    text = out.getvalue()
    assert "api-7d9f8c6b5-x2k4q" in text and "Evidence" in text and "Was this right?" in text


def test_settings_build_the_same_pipeline_for_aeth_run(tmp_path: Path) -> None:
    from aetherius.cli.pipeline_wiring import embedded_pipeline

    settings = Settings(data_dir=tmp_path, storm_threshold=5)
    pipeline, queue = embedded_pipeline(settings, notifier=RecordingNotifier(), rules_only=True)
    assert pipeline.enqueue is queue and pipeline.capture is None
    assert (tmp_path / "aetherius.db").is_file()
    pipeline.store.close()

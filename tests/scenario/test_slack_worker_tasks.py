"""What the Slack app enqueues, a real ``aeth worker`` with a bot token answers: in Slack, from the cluster.

The test process plays ``aeth serve``: it publishes the task names the bot's listeners publish (`bot.ports`), with
the same id-only kwargs, to our own ``redis-server``. The worker (a real process) reads pods from the fake API server
over HTTP, searches the real case store, and answers through the fake Slack Web API, which records every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aetherius.incidents import IncidentState
from aetherius.settings import Settings
from aetherius.store import Store
from bot import ports
from collectors.storms import StormControl
from tasks.app import make_celery
from tasks.enqueuing import CeleryEnqueuer
from tasks.intake import Intake
from tasks.routing import ROUTES
from tests import builders
from tests.fakes import wait_until
from tests.fakes.kube import FakeKube
from tests.fakes.slack import Call, FakeSlack
from tests.scenario.test_pipeline_parts import (
    RedisServer,
    WorkerProcess,
    crash_snapshot,
    detection,
    store_at,
    worker_env,
)

pytest_plugins = ["tests.fakes.fixtures", "tests.scenario.test_pipeline_parts"]
pytestmark = [pytest.mark.scenario, pytest.mark.slow, pytest.mark.timeout(240)]
ASKER = {"channel": "C0ASK", "user": "U0ASKER"}


class World:
    def __init__(self, store: Store, slack: FakeSlack, worker: WorkerProcess, enqueue: CeleryEnqueuer, intake: Intake):
        self.store, self.slack, self.worker, self.enqueue, self.intake = store, slack, worker, enqueue, intake

    def wait_for(self, what: str, found: Any, timeout: float = 120) -> None:
        assert wait_until(found, timeout=timeout, interval=0.2), f"{what}; worker log:\n{self.worker.log()[-4000:]}"

    def calls(self, method: str, channel: str) -> list[Call]:
        return [c for c in self.slack.calls(method) if c.params.get("channel") == channel]


@pytest.fixture
def world(redis_server: RedisServer, tmp_path: Path, kube_settings: Settings) -> Iterator[World]:
    with store_at("sqlite", tmp_path) as (store, url), FakeSlack() as slack:
        env = worker_env(
            tmp_path, redis_server.url, url,
            AETH_KUBECONFIG=str(kube_settings.kubeconfig), AETH_KUBE_CONTEXT="fake", AETH_CLUSTER_NAME="test",
            AETH_SLACK_BOT_TOKEN="xoxb-test", AETH_SLACK_API_URL=slack.url, AETH_SLACK_DEFAULT_CHANNEL="C0INCIDENTS",
            AETH_SLACK_POST_INTERVAL_S="0.05",
        )  # fmt: skip
        celery = make_celery(Settings(broker_url=redis_server.url, data_dir=tmp_path))
        enqueue = CeleryEnqueuer(celery)
        intake = Intake(store, enqueue, StormControl(1000, 60.0), can_capture=lambda cluster: True)
        worker = WorkerProcess(env, tmp_path / "worker.log").start()
        try:
            yield World(store, slack, worker, enqueue, intake)
        finally:
            worker.kill()
            celery.close()


def test_every_task_the_slack_app_enqueues_is_routed_to_a_stage_queue() -> None:
    born_in_slack = {ports.DIAGNOSE_POD, ports.READ_CLUSTER, ports.SIMILAR, ports.DRY_RUN, ports.LEARN}
    assert born_in_slack <= set(ROUTES)


def test_slash_command_work_is_answered_in_slack_by_a_real_worker(world: World, kube: FakeKube) -> None:
    kube.create(builders.pod(statuses=[builders.crashlooping(exit_code=1)]))
    kube.set_log("shop", "api-7d9f8c6b5-x2k4q", "api", "KeyError: 'DATABASE_URL' password=hunter2\n", previous=True)
    pod = {"pod": "api-7d9f8c6b5-x2k4q", "namespace": "shop", "cluster": "test", **ASKER}

    world.enqueue(ports.DIAGNOSE_POD, pod)
    world.enqueue(ports.READ_CLUSTER, {**pod, "verb": "logs", "previous": "1", "tail": "50"})
    world.enqueue(ports.DIAGNOSE_POD, {**pod, "pod": "gone-7d9f8c6b5-zzzzz"})
    world.enqueue(ports.SIMILAR, {"query": "getaddrinfo EAI_AGAIN orders-db", **ASKER})

    world.wait_for("the diagnosis thread, the log and two ephemeral answers", lambda: (
        any("Asked by" in str(c.params) for c in world.calls("chat.postMessage", "C0ASK"))
        and any("KeyError" in str(c.params) for c in world.slack.calls() if c.params.get("channel") == "C0ASK")
        and len(world.calls("chat.postEphemeral", "C0ASK")) >= 2
    ))  # fmt: skip
    everything = str([c.params for c in world.slack.calls()])
    assert "hunter2" not in everything  # the log line was redacted before it reached Slack
    ephemeral = [str(c.params.get("text")) for c in world.calls("chat.postEphemeral", "C0ASK")]
    assert any("Cannot diagnose pod/gone-7d9f8c6b5-zzzzz" in t for t in ephemeral)  # one line, no traceback
    assert any("Similar past cases" in t and "network" in t for t in ephemeral)
    assert "Traceback" not in world.worker.log()


def test_a_dry_run_and_a_confirmed_diagnosis_come_back_through_the_incident_thread(world: World) -> None:
    world.intake.hand_over(detection(), crash_snapshot(), None)
    world.wait_for("the incident notified in Slack", lambda: [i.state for i in world.store.list_incidents()] == [
        IncidentState.NOTIFIED
    ])  # fmt: skip
    (incident,) = world.store.list_incidents()
    diagnosis = world.store.latest_diagnosis(incident.id)
    assert diagnosis is not None and incident.slack_ts
    action = diagnosis.payload["recommendations"][0]["action"]

    world.enqueue(ports.DRY_RUN, {"incident_id": str(incident.id), "action": action, "user": "U0SRE"})
    world.wait_for("the dry-run reply in the incident thread", lambda: any(
        c.params.get("thread_ts") == incident.slack_ts and "Dry-run of" in str(c.params)
        for c in world.calls("chat.postMessage", "C0INCIDENTS")
    ))  # fmt: skip
    assert any(e.kind == "slack.dry_run" for e in world.store.audit_log(incident_id=incident.id))

    world.store.add_feedback(incident.id, user="U0SRE", kind="thumbs_up")
    world.enqueue(ports.LEARN, {"incident_id": str(incident.id)})
    world.wait_for("the confirmed incident learned as a case", lambda: (
        f"learned incident-{incident.id} as {diagnosis.category}" in world.worker.log()
    ))  # fmt: skip

    world.store.remove_feedback(incident.id, user="U0SRE", kind="thumbs_up")
    world.enqueue(ports.LEARN, {"incident_id": str(incident.id)})
    world.wait_for("the vote taken back and the learned case forgotten", lambda: (
        f"forgot the case learned from incident #{incident.id}" in world.worker.log()
    ))  # fmt: skip

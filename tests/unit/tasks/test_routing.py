"""Every task has a stage queue; the Celery app routes and delivers the way the pipeline relies on."""

from __future__ import annotations

from aetherius.settings import Settings
from tasks.app import make_celery
from tasks.routing import QUEUES, ROUTES, queue_of


def test_every_task_runs_on_its_stage_queue() -> None:
    assert set(ROUTES.values()) == set(QUEUES)
    assert queue_of("aeth.notify") == "notify" and queue_of("aeth.approval_granted") == "remediate"


def test_the_app_acks_late_prefetches_one_and_speaks_json_only() -> None:
    app = make_celery(Settings(broker_url="redis://127.0.0.1:1/5", task_visibility_timeout_s=42))
    conf = app.conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.broker_transport_options == {"visibility_timeout": 42}
    assert conf.task_routes["aeth.capture"] == {"queue": "capture"}
    assert {"aeth.capture", "aeth.analyze", "aeth.notify", "aeth.remediate"} <= set(app.tasks)
    app.close()

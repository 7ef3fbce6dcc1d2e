"""The Celery app: Redis broker, one queue per stage, at-least-once delivery, thin tasks over `tasks.stages`.

Delivery settings, and why:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only after its task finished, and
  a worker process that dies mid-task puts it back, so a crash delays an incident but never drops it. This is safe
  because every stage is idempotent (see `tasks.stages`).
- ``worker_prefetch_multiplier = 1``: a worker holds one message per process, so a slow diagnosis does not sit on a
  queue of others that idle workers could take.
- ``visibility_timeout``: with Redis, a message taken by a worker that vanished entirely (SIGKILL, lost host)
  comes back after this long; it must exceed the longest task (a capture plus a diagnosis takes seconds).
- JSON only, no results stored: tasks take ids and write their results to the state store.

Failures: `tasks.policy.RetryPolicy` decides. `TemporaryError` → ``retry`` with back-off; `PermanentError` or retries
exhausted → a dead letter in the store, and the message is acknowledged (the incident itself stays in the store,
in the state it reached, for the reconciler and for people).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Celery

from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from collectors.telemetry import process_telemetry
from tasks import runtime, stages
from tasks.enqueuing import ENQUEUED_AT
from tasks.policy import DeadLetter, RetryPolicy
from tasks.routing import ANALYZE, APPROVAL_GRANTED, CAPTURE, NOTIFY, REMEDIATE, ROUTES, queue_of

log = logging.getLogger(__name__)


def make_celery(settings: Settings, *, policy: RetryPolicy | None = None) -> Celery:
    """The app over ``settings.broker_url`` (``AETH_BROKER_URL``) with the stage tasks registered."""
    app = Celery("aetherius", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_create_missing_queues=True,  # one queue per stage, declared from the routes
        task_default_queue="analyze",
        task_routes={name: {"queue": queue} for name, queue in ROUTES.items()},
        broker_transport_options={"visibility_timeout": settings.task_visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    register_tasks(app, policy or RetryPolicy(settings.task_max_retries, settings.task_retry_base_s))
    return app


def register_tasks(app: Celery, policy: RetryPolicy) -> None:
    def stage(name: str, body: Callable[..., str]) -> None:
        def run(task: Any, **kwargs: Any) -> str:
            return run_stage(task, name, body, kwargs, policy)

        app.task(name=name, bind=True, acks_late=True, max_retries=None, shared=False)(run)

    stage(CAPTURE, lambda incident_id, pod="": stages.capture(runtime.pipeline(), int(incident_id), str(pod)))
    stage(ANALYZE, lambda incident_id: stages.analyze(runtime.pipeline(), int(incident_id)))
    stage(NOTIFY, lambda incident_id: stages.notify(runtime.pipeline(), int(incident_id)))
    stage(REMEDIATE, lambda approval_id, incident_id=None: _remediate(approval_id, incident_id))
    stage(APPROVAL_GRANTED, lambda approval_id, incident_id=None: _remediate(approval_id, incident_id))


def _remediate(approval_id: Any, incident_id: Any) -> str:
    return stages.remediate(runtime.pipeline(), int(approval_id), int(incident_id) if incident_id else None)


def run_stage(task: Any, name: str, body: Callable[..., str], kwargs: dict[str, Any], policy: RetryPolicy) -> str:
    """Run one stage under the retry policy; a dead letter is written, never raised."""
    retries = int(task.request.retries or 0)
    telemetry = process_telemetry()
    enqueued = _enqueued_at(task.request)
    if enqueued is not None and not retries:
        telemetry.observe_queue_latency(queue_of(name), time.time() - enqueued)
    started = time.perf_counter()
    try:
        outcome = body(**kwargs)
    except AetheriusError as err:
        telemetry.error("worker", err)
        decision = policy.decide(err, retries)
        if isinstance(decision, DeadLetter):
            return park(name, kwargs, decision.reason)
        log.warning("%s%s failed (%s); retry %d in %.1fs", name, kwargs, err, retries + 1, decision.delay_s)
        raise task.retry(exc=err, countdown=decision.delay_s, max_retries=None) from None
    if name == ANALYZE and outcome.startswith("diagnosed"):
        telemetry.observe_diagnosis_latency(time.perf_counter() - started)
    log.info("%s%s: %s", name, kwargs, outcome)
    return outcome


def _enqueued_at(request: Any) -> float | None:
    """The publish time header (`tasks.enqueuing.ENQUEUED_AT`), wherever this Celery version puts custom headers."""
    value = getattr(request, ENQUEUED_AT, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(ENQUEUED_AT)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def park(name: str, kwargs: dict[str, Any], reason: str) -> str:
    """Write the dead letter. With the store down this raises; the incident waits in the store for the reconciler."""
    runtime.pipeline().store.dead_letter(name, dict(kwargs), reason)
    log.error("%s%s dead-lettered: %s", name, kwargs, reason)
    return f"dead letter: {reason}"

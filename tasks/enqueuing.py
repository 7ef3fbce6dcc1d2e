"""The Enqueuer port: hand a task to the workers by name and kwargs (ids only), wherever the workers are.

Two sides: `CeleryEnqueuer` publishes to the broker (production: ``aeth collect``, ``aeth serve``, the workers
themselves when one stage hands over to the next); `tasks.embedded.InProcessQueue` runs the same stage functions
in a thread of the calling process (``aeth run``). Tests may pass any callable with this shape.

An enqueue that cannot reach the broker raises `StoreUnavailable` (a `TemporaryError`): the caller's incident is
already in the state store, and the workers' reconciler enqueues it again once the broker is back.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from aetherius.errors import StoreUnavailable
from tasks.routing import queue_of

ENQUEUED_AT = "aeth_enqueued_at"
"""Message header: Unix time the job was published (queue latency = start time - this)."""


class Enqueuer(Protocol):
    def __call__(self, task: str, kwargs: dict[str, Any]) -> None: ...


class CeleryEnqueuer:
    """Publishes by task name with ``send_task`` (no import of the task code needed), to the stage's queue."""

    def __init__(self, celery: Any) -> None:
        self.celery = celery

    def __call__(self, task: str, kwargs: dict[str, Any]) -> None:
        try:
            headers = {ENQUEUED_AT: time.time()}  # the worker's queue-latency metric reads it
            self.celery.send_task(task, kwargs=kwargs, queue=queue_of(task), headers=headers)
        except (KombuError, RedisError, OSError) as err:
            reason = f"{type(err).__name__}: {err}"
            raise StoreUnavailable(f"task broker unreachable, {task} not enqueued: {reason}") from err

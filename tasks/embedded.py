"""The embedded queue: the stage functions run in a thread of this process, with the workers' retry policy.

``aeth run`` uses it instead of Celery and Redis: one small cluster, nothing else to install. It is an `Enqueuer`
like `tasks.enqueuing.CeleryEnqueuer`, and runs the very functions the Celery tasks wrap, so the embedded mode is
the production pipeline minus the network hop. Retries wait on a timer heap; a dead letter goes to the store.
Messages live in memory: on a restart the reconciler (run at start) finds whatever was waiting in the store.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aetherius.errors import AetheriusError
from tasks import stages
from tasks.policy import DeadLetter, RetryPolicy
from tasks.routing import ANALYZE, APPROVAL_GRANTED, CAPTURE, NOTIFY, REMEDIATE
from tasks.stages import Pipeline

log = logging.getLogger(__name__)


def dispatch(p: Pipeline, task: str, kwargs: dict[str, Any]) -> str:
    """Run the stage a task name stands for; an unknown name is a bug in the caller."""
    if task == CAPTURE:
        return stages.capture(p, int(kwargs["incident_id"]), str(kwargs.get("pod") or ""))
    if task == ANALYZE:
        return stages.analyze(p, int(kwargs["incident_id"]))
    if task == NOTIFY:
        return stages.notify(p, int(kwargs["incident_id"]))
    if task in (REMEDIATE, APPROVAL_GRANTED):
        incident = kwargs.get("incident_id")
        return stages.remediate(p, int(kwargs["approval_id"]), int(incident) if incident else None)
    raise ValueError(f"no stage for task {task!r}")


class InProcessQueue:
    """An `Enqueuer` whose jobs run on one background thread, in order of due time."""

    def __init__(
        self,
        pipeline: Callable[[], Pipeline],
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pipeline = pipeline
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.done = 0
        self.dead_letters = 0
        self._heap: list[tuple[float, int, str, dict[str, Any], int]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="aeth-embedded-queue", daemon=True)

    def __call__(self, task: str, kwargs: dict[str, Any]) -> None:
        self._push(task, dict(kwargs), 0, 0.0)

    def start(self) -> InProcessQueue:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def idle(self) -> bool:
        """Nothing waiting and nothing running (retries scheduled for later count as waiting)."""
        with self._cond:
            return not self._heap and not self._running

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return self.idle()

    def _push(self, task: str, kwargs: dict[str, Any], retries: int, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (self.clock() + delay, next(self._seq), task, kwargs, retries))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0][0] > self.clock()):
                    self._cond.wait(0.05 if not self._heap else max(0.0, min(0.5, self._heap[0][0] - self.clock())))
                if self._stopping:
                    return
                _, _, task, kwargs, retries = heapq.heappop(self._heap)
                self._running += 1
            try:
                self._execute(task, kwargs, retries)
            finally:
                with self._cond:
                    self._running -= 1

    def _execute(self, task: str, kwargs: dict[str, Any], retries: int) -> None:
        pipeline = self._pipeline()
        try:
            outcome = dispatch(pipeline, task, kwargs)
        except AetheriusError as err:
            decision = self.policy.decide(err, retries)
            if isinstance(decision, DeadLetter):
                self.dead_letters += 1
                log.error("%s%s dead-lettered: %s", task, kwargs, decision.reason)
                try:
                    pipeline.store.dead_letter(task, kwargs, decision.reason)
                except AetheriusError as store_err:
                    log.error("could not write the dead letter (%s); the reconciler will retry the incident", store_err)
                return
            log.warning("%s%s failed (%s); retry %d in %.1fs", task, kwargs, err, retries + 1, decision.delay_s)
            self._push(task, kwargs, retries + 1, decision.delay_s)
            return
        self.done += 1
        log.info("%s%s: %s", task, kwargs, outcome)

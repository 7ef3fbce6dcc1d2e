"""The reconciler: the store is the source of truth, the queue only a hint. It re-enqueues incidents that stopped.

A message can vanish: the broker restarted without persistence, an enqueue failed after the incident was stored,
a worker died and its message went to a dead letter. The incident is still in the store, in the state it reached.
Every ``interval_s`` the reconciler lists incidents that are waiting for a stage (``open`` → capture, which goes
on to analyze; ``diagnosed`` → notify) and re-enqueues those it saw *in the same state on its previous pass* —
stuck for a whole interval, not just in flight — so a fleet of workers starting at once does not flood the queue.
``open`` goes to ``capture`` rather than ``analyze`` because an alert-born incident may still wait for its pod's
snapshot, and capture knows which pod (it looks up the intake's ``capture.requested`` record). The stages are
idempotent, so a duplicate enqueue costs a store read, not a second thread.

Members of a storm wait in ``diagnosed`` on purpose (their storm is what people see), so they are not re-notified.
"""

from __future__ import annotations

import logging
import threading

from aetherius.errors import TemporaryError
from aetherius.incidents import IncidentState
from aetherius.store import IncidentView, Store
from tasks.enqueuing import Enqueuer
from tasks.routing import CAPTURE, NOTIFY

log = logging.getLogger(__name__)
WAITING = (IncidentState.OPEN, IncidentState.DIAGNOSED)
NEXT_TASK = {IncidentState.OPEN: CAPTURE, IncidentState.DIAGNOSED: NOTIFY}


def stuck(previous: dict[int, IncidentState] | None, waiting: list[IncidentView]) -> list[IncidentView]:
    """Incidents to enqueue again: those waiting in the same state as on the previous pass (none on the first)."""
    candidates = [i for i in waiting if not (i.state is IncidentState.DIAGNOSED and i.storm_id is not None)]
    return [i for i in candidates if previous is not None and previous.get(i.id) is i.state]


class Reconciler:
    def __init__(self, store: Store, enqueue: Enqueuer, *, interval_s: float = 30.0, limit: int = 10_000) -> None:
        self.store = store
        self.enqueue = enqueue
        self.interval_s = interval_s
        self.limit = limit
        self.requeued = 0
        self._previous: dict[int, IncidentState] | None = None
        self._stopping = threading.Event()

    def run_once(self) -> int:
        """One pass; returns how many incidents it enqueued again."""
        waiting = self.store.list_incidents(states=WAITING, limit=self.limit)
        again = stuck(self._previous, waiting)
        for incident in again:
            self.enqueue(NEXT_TASK[incident.state], {"incident_id": incident.id})
        self._previous = {i.id: i.state for i in waiting}
        self.requeued += len(again)
        if again:
            log.info("reconciler re-enqueued %d waiting incidents", len(again))
        return len(again)

    def run(self) -> None:
        """Pass, wait, pass... until ``stop()``; a store or broker outage skips a pass."""
        while not self._stopping.is_set():
            try:
                self.run_once()
            except TemporaryError as err:
                log.warning("reconciler pass skipped: %s", err)
            self._stopping.wait(self.interval_s)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="aeth-reconciler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopping.set()

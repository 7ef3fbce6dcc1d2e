"""The multi-cluster registry: each cluster's leading collector registers it and heartbeats into the state store.

Only the leader heartbeats, naming itself as ``leader``: two replicas of one cluster writing would flap the row's
leader on every beat. So a cluster whose every collector is down, or cut off from the store, stops heartbeating
and shows as *stale* once ``stale_after_s`` has passed. Staleness is judged by the reader, at reading time
(``cluster_statuses``, pure), so it needs no writer to be alive.

A store that cannot be reached costs a beat, not the collector: the error is logged and counted, the next beat
tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aetherius.errors import AetheriusError
from aetherius.store.views import ClusterView
from collectors.telemetry import Telemetry

log = logging.getLogger(__name__)


class HeartbeatStore(Protocol):
    """The part of ``aetherius.store.Store`` the registry writes to."""

    def upsert_cluster_heartbeat(
        self, name: str, at: datetime, leader: str | None, labels: dict[str, Any] | None = None
    ) -> None: ...


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    last_heartbeat: datetime | None
    age_s: float | None
    """Seconds since the last heartbeat; ``None`` when there never was one."""
    leader: str | None
    stale: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "last_heartbeat": self.last_heartbeat.isoformat() if self.last_heartbeat else None,
            "age_s": round(self.age_s, 1) if self.age_s is not None else None,
            "leader": self.leader,
            "stale": self.stale,
        }


def cluster_statuses(clusters: Iterable[ClusterView], *, now: datetime, stale_after_s: float) -> list[ClusterStatus]:
    """Each registered cluster with its heartbeat's age; stale when older than ``stale_after_s`` (or never)."""
    statuses = []
    for cluster in clusters:
        beat = cluster.last_heartbeat
        if beat is not None and beat.tzinfo is None:  # SQLite hands back naive UTC
            beat = beat.replace(tzinfo=UTC)
        age = (now - beat).total_seconds() if beat is not None else None
        stale = age is None or age > stale_after_s
        statuses.append(ClusterStatus(cluster.name, beat, age, cluster.leader, stale))
    return statuses


def format_age(age_s: float | None) -> str:
    """``42s``, ``3m05s``, ``2h10m``, ``never``."""
    if age_s is None:
        return "never"
    seconds = max(0, int(age_s))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Heartbeat:
    """Writes the cluster's heartbeat at most every ``interval_s``; ``beat_if_due`` is called by the service loop."""

    def __init__(
        self,
        store: HeartbeatStore,
        cluster: str,
        identity: str,
        *,
        interval_s: float,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.cluster = cluster
        self.identity = identity
        self.interval_s = interval_s
        self.telemetry = telemetry
        self._clock = clock
        self._now = now
        self._last: float | None = None
        self.beats = 0
        self.failures = 0

    def beat_if_due(self) -> bool:
        if self._last is not None and self._clock() - self._last < self.interval_s:
            return False
        return self.beat()

    def beat(self) -> bool:
        """Write one heartbeat naming this collector the leader; False (logged) when the store refused."""
        self._last = self._clock()
        at = self._now()
        try:
            self.store.upsert_cluster_heartbeat(self.cluster, at, self.identity)
        except AetheriusError as err:
            self.failures += 1
            log.warning("heartbeat for cluster %s not written: %s", self.cluster, err)
            if self.telemetry is not None:
                self.telemetry.error("registry", err)
            return False
        self.beats += 1
        if self.telemetry is not None:
            self.telemetry.heartbeat.labels(self.cluster).set(at.timestamp())
        return True

"""Leader election over a coordination.k8s.io/v1 Lease, so that of two collectors for one cluster only one reports.

The algorithm is client-go's ``leaderelection`` (the one kube-controller-manager uses), in one call that the
service makes every ``retry_s``:

- no Lease yet → create it holding it; a 409 on create means another collector created it first;
- a Lease held by someone else → wait until it has been seen *unchanged* for its ``leaseDurationSeconds``, then
  take it over (``leaseTransitions`` + 1). Expiry is judged on our own monotonic clock from the moment we first saw
  that version, never by comparing its ``renewTime`` with our wall clock: the collectors' clocks may disagree;
- a released Lease (empty ``holderIdentity``) is free at once;
- held by us → renew it (``renewTime`` = now).

Every write is a replace carrying the ``resourceVersion`` read just before; a 409 Conflict means someone else
wrote in between, and we are not the leader. A leader that cannot renew (API down) keeps leading only until its
``renew_deadline_s``, which is shorter than the lease duration, so it steps down before anyone may take over: two
leaders at once would need a collector to stall longer than ``lease_duration - renew_deadline`` mid-report.
``release()`` hands the Lease back (empty holder, 1 s duration) so a follower takes over on its next try.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from collectors.kube.leases import LeaseConflict, LeaseRecord

log = logging.getLogger(__name__)


class Leases(Protocol):
    """The Lease port (``collectors.kube.leases.LeaseClient`` against the API)."""

    def get(self) -> LeaseRecord | None: ...

    def create(self, record: LeaseRecord) -> LeaseRecord: ...

    def replace(self, record: LeaseRecord) -> LeaseRecord: ...


@dataclass(frozen=True)
class ElectionTimings:
    lease_duration_s: int = 15
    renew_deadline_s: float = 10.0
    retry_s: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_s < self.renew_deadline_s < self.lease_duration_s:
            raise ValueError("leader election needs 0 < retry < renew deadline < lease duration")

    @classmethod
    def from_settings(cls, settings: Settings) -> ElectionTimings:
        return cls(settings.lease_duration_s, settings.lease_renew_deadline_s, settings.lease_retry_s)


def is_free(record: LeaseRecord, *, observed_for_s: float) -> bool:
    """May another collector take ``record``: released, or unchanged for its whole duration since we saw it."""
    return not record.holder or observed_for_s >= record.duration_s


class LeaderElector:
    """One collector's side of the election. Not thread-safe: one thread calls ``try_acquire_or_renew``."""

    def __init__(
        self,
        leases: Leases,
        identity: str,
        timings: ElectionTimings = ElectionTimings(),
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.leases = leases
        self.identity = identity
        self.timings = timings
        self._clock = clock
        self._wall = wall
        self._leading = False
        self._renewed_at = 0.0  # monotonic time of our last successful write
        self._observed: tuple[str, str] | None = None  # (holder, resourceVersion) of the Lease as last seen
        self._observed_at = 0.0
        self.transitions = 0
        """How many times this collector became the leader."""

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def observed_holder(self) -> str:
        return self._observed[0] if self._observed else ""

    def try_acquire_or_renew(self) -> bool:
        """One round of the election; True while this collector leads."""
        now = self._clock()
        try:
            current = self.leases.get()
        except AetheriusError as err:
            return self._cannot_write(now, err)
        if current is None:
            fresh = LeaseRecord(self.identity, self.timings.lease_duration_s, self._wall(), self._wall())
            return self._write(self.leases.create, fresh, now)
        self._observe(current, now)
        if current.holder != self.identity and not is_free(current, observed_for_s=now - self._observed_at):
            return self._follow()
        desired = current.written_by(self.identity, self._wall(), self.timings.lease_duration_s)
        return self._write(self.leases.replace, desired, now)

    def release(self) -> None:
        """Hand the Lease back so a follower takes over at once; nothing to do unless leading."""
        if not self._leading:
            return
        self._leading = False
        try:
            current = self.leases.get()
            if current is not None and current.holder == self.identity:
                at = self._wall()
                self.leases.replace(LeaseRecord("", 1, at, at, current.transitions, current.resource_version))
                log.info("%s released the Lease", self.identity)
        except AetheriusError as err:  # it will expire instead
            log.warning("could not release the Lease (%s); it expires after %ss", err, self.timings.lease_duration_s)

    def _write(self, write: Callable[[LeaseRecord], LeaseRecord], record: LeaseRecord, now: float) -> bool:
        try:
            written = write(record)
        except LeaseConflict:
            return self._follow()
        except AetheriusError as err:
            return self._cannot_write(now, err)
        self._observe(written, now)
        self._renewed_at = now
        if not self._leading:
            self.transitions += 1
            log.info("%s is now the leader (Lease transitions: %d)", self.identity, written.transitions)
        self._leading = True
        return True

    def _follow(self) -> bool:
        if self._leading:
            log.warning("%s lost the Lease to %s", self.identity, self.observed_holder or "another collector")
        self._leading = False
        return False

    def _cannot_write(self, now: float, err: AetheriusError) -> bool:
        if self._leading and now - self._renewed_at < self.timings.renew_deadline_s:
            log.warning("could not renew the Lease (%s); still leading for now", err)
            return True
        if self._leading:
            log.error("could not renew the Lease for %.1fs (%s); stepping down", now - self._renewed_at, err)
        else:
            log.warning("leader election: %s", err)
        self._leading = False
        return False

    def _observe(self, record: LeaseRecord, now: float) -> None:
        seen = (record.holder, record.resource_version)
        if seen != self._observed:
            self._observed, self._observed_at = seen, now

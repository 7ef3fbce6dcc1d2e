"""Intake: where detections and alerts become incidents in the store and work for the queue.

`Intake.hand_over` is the `collectors.kube.HandOver` the `CapturingSink` calls; `Intake.receive_alerts` is the
`AlertReceiver`'s sink. For each sighting, in order:

1. fingerprint it (cluster, namespace, owning workload, failure family);
2. record it as an occurrence: the fingerprint's active incident gets one more, or a new incident opens (the
   store makes this atomic and idempotent per dedup key, so a replayed event is a counted duplicate);
3. a *new* incident is shown to storm control; inside a storm it is rolled up (``storm_id``) into the scope's
   storm incident, which gets the member as an occurrence — one page for the burst instead of N;
4. save the captured snapshot (redacted) when the incident has none yet;
5. enqueue by id: ``analyze`` for a new incident (``capture`` first for an alert naming a pod), ``notify`` for a
   storm that grew or an alert that resolved its incident. Repeats enqueue nothing.

Every sighting lands in exactly one place — recorded (the store's ``occurrences`` or ``duplicate_occurrences``
counter, bumped in the same transaction as the row) or ``filtered`` (a resolved alert whose incident is not
active) — so ``received == recorded + filtered`` here and ``recorded == occurrences + duplicates`` in the store.

An enqueue that fails (broker down) is counted and raised as a `TemporaryError` *after* the incident is stored:
nothing is lost, the workers' reconciler enqueues it later, and when the watcher reports the subject again it
becomes an occurrence of the same incident, not a second one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from aetherius.errors import TemporaryError
from aetherius.incidents import IncidentState, fingerprint
from aetherius.snapshots import Snapshot
from aetherius.store import Recorded, Store
from collectors.alerts.alerts import Alert
from collectors.kube.detecting import Detection
from collectors.storms import StormControl
from collectors.telemetry import process_telemetry
from knowledge.redaction import redact_object, redact_text
from tasks.enqueuing import Enqueuer
from tasks.rollups import STORM_FAMILY, member_key, storm_workload
from tasks.routing import ANALYZE, CAPTURE, NOTIFY
from tasks.stages import CAPTURE_FAILED, CAPTURE_REQUESTED, snapshot_time

Job = tuple[str, dict[str, Any]]
SOURCES = {"pod": "pod_state", "event": "kube_event", "node": "node_state"}


@dataclass
class IntakeCounters:
    received: int = 0
    recorded: int = 0
    """Handed to the store: it counts each as an occurrence or a duplicate (``Store.counters``)."""
    filtered: int = 0
    opened: int = 0
    storm_members: int = 0
    resolved: int = 0
    enqueue_failures: int = 0

    def reconciles(self) -> bool:
        """Every sighting was recorded (the store tells occurrence from duplicate) or filtered."""
        return self.received == self.recorded + self.filtered

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Sighting:
    """A detection or an alert, reduced to what the store records."""

    cluster: str
    namespace: str
    workload: str
    family: str
    source: str
    reason: str
    message: str
    dedup_key: str
    seen_at: datetime
    severity: str = "warning"


_REFRESH_MEMORY = 10_000
"""Incidents whose last refresh time is kept before the stale ones are dropped."""


class Intake:
    def __init__(
        self,
        store: Store,
        enqueue: Enqueuer,
        storms: StormControl,
        *,
        clock: Callable[[], float] = time.monotonic,
        can_capture: Callable[[str], bool] = lambda cluster: False,
        refresh_s: float = 10.0,
    ) -> None:
        self.store = store
        self.enqueue = enqueue
        self.storms = storms
        self.clock = clock
        self.can_capture = can_capture
        """Whether the workers can read ``cluster``'s API (to capture a pod an alert names)."""
        self.refresh_s = refresh_s
        """Repeats refresh the incident's thread (count, last seen) at most this often per incident."""
        self.counters = IntakeCounters()
        self._lock = threading.Lock()
        self._refreshed: dict[int, float] = {}

    # --- the two doors -----------------------------------------------------------------------------------------

    def hand_over(self, detection: Detection, snapshot: Snapshot | None, problem: str | None) -> None:
        """The CapturingSink's hand-over: one detection, with its snapshot or the reason there is none."""
        sighting = Sighting(
            cluster=detection.cluster,
            namespace=detection.namespace,
            workload=f"{detection.workload_kind}/{detection.workload_name}",
            family=detection.family,
            source=SOURCES.get(detection.source, "kube_event"),
            reason=detection.reason,
            message=redact_text(detection.message),
            dedup_key=_detection_key(detection),
            seen_at=detection.seen_at,
        )
        taken = self._record(sighting)
        incident_id = taken.incident_id
        if snapshot is not None and (taken.created or self.store.latest_snapshot(incident_id) is None):
            document = redact_object(snapshot.to_document())
            self.store.save_snapshot(incident_id, document, captured_at=snapshot_time(snapshot))
        elif problem and taken.created:
            detail = {"pod": detection.pod, "error": redact_text(problem)}
            self.store.audit(actor="collector", kind=CAPTURE_FAILED, detail=detail, incident_id=incident_id)
        self._enqueue(taken.work((ANALYZE, {"incident_id": incident_id})) or self._refresh(taken))

    def receive_alerts(self, alerts: list[Alert]) -> None:
        """The AlertReceiver's sink: firing alerts are sightings; resolved ones resolve their incident."""
        work: list[Job] = []
        for alert in alerts:
            sighting = _alert_sighting(alert)
            if alert.status == "resolved":
                work += self._resolve(alert, sighting)
                continue
            taken = self._record(sighting)
            if alert.pod and self.can_capture(alert.cluster):
                first: Job = (CAPTURE, {"incident_id": taken.incident_id, "pod": alert.pod})
                if taken.created:  # so that a re-enqueue (reconciler) still knows which pod to capture
                    detail = {"pod": alert.pod}
                    self.store.audit(
                        actor="alertmanager", kind=CAPTURE_REQUESTED, detail=detail, incident_id=taken.incident_id
                    )
            else:
                first = (ANALYZE, {"incident_id": taken.incident_id})
            work += taken.work(first) or self._refresh(taken)
        self._enqueue(work)

    # --- steps -------------------------------------------------------------------------------------------------

    def _record(self, s: Sighting) -> Taken:
        """Record the sighting (an occurrence or a counted duplicate); route a new incident through storm control."""
        self._bump("received")
        recorded = self.store.record_occurrence(
            fingerprint=fingerprint(s.cluster, s.namespace, s.workload, s.family),
            cluster=s.cluster, namespace=s.namespace, workload=s.workload, family=s.family, source=s.source,
            reason=s.reason, message=s.message, dedup_key=s.dedup_key, seen_at=s.seen_at, severity=s.severity,
        )  # fmt: skip
        self._bump("recorded")
        if not recorded.created:
            return Taken(recorded.incident_id, False)
        self._bump("opened")
        process_telemetry().incident_opened(s.cluster)
        verdict = self.storms.admit(s.cluster, s.namespace, self.clock())
        if not verdict.storm:
            return Taken(recorded.incident_id, True)
        return Taken(recorded.incident_id, True, self._roll_up(recorded.incident_id, verdict.scope, s))

    def _refresh(self, taken: Taken) -> list[Job]:
        """A repeat updates the thread's count and last-seen, at most once per ``refresh_s`` for each incident: an
        event storm on one workload costs a handful of edits, not one per event (the notify stage ignores incidents
        not posted yet, and sends storm members to their storm)."""
        if taken.created:
            return []
        now = self.clock()
        with self._lock:
            if now - self._refreshed.get(taken.incident_id, -self.refresh_s) < self.refresh_s:
                return []
            self._refreshed[taken.incident_id] = now
            if len(self._refreshed) > _REFRESH_MEMORY:
                self._refreshed = {k: t for k, t in self._refreshed.items() if now - t < self.refresh_s}
        return [(NOTIFY, {"incident_id": taken.incident_id})]

    def _roll_up(self, member_id: int, scope: str, s: Sighting) -> Recorded:
        namespace = scope.split("/", 1)[1] if "/" in scope else ""
        workload = storm_workload(scope)
        storm = self.store.record_occurrence(
            fingerprint=fingerprint(s.cluster, namespace, workload, STORM_FAMILY),
            cluster=s.cluster, namespace=namespace, workload=workload, family=STORM_FAMILY, source="storm",
            reason="storm", message=f"#{member_id} {s.namespace}/{s.workload} {s.family}",
            dedup_key=member_key(member_id), seen_at=s.seen_at, severity="high", title=f"incident storm in {scope}",
        )  # fmt: skip
        self.store.set_storm(member_id, storm.incident_id, actor="storm-control")
        self._bump("storm_members")
        return storm

    def _resolve(self, alert: Alert, s: Sighting) -> list[Job]:
        active = self.store.find_active(fingerprint(s.cluster, s.namespace, s.workload, s.family))
        if active is None:  # never fired here, or already resolved: nothing to change, but counted
            self._bump("received")
            self._bump("filtered")
            return []
        self._record(s)
        self.store.transition(
            active.id, IncidentState.RESOLVED, actor="alertmanager", reason=redact_text(f"{alert.name} resolved")
        )
        self._bump("resolved")
        return [(NOTIFY, {"incident_id": active.id})]

    def _enqueue(self, work: list[Job]) -> None:
        for task, kwargs in work:
            try:
                self.enqueue(task, kwargs)
            except TemporaryError:
                self._bump("enqueue_failures")
                raise

    def _bump(self, name: str) -> None:
        with self._lock:
            setattr(self.counters, name, getattr(self.counters, name) + 1)


@dataclass(frozen=True)
class Taken:
    """What one sighting did: which incident, whether it opened it, and the storm it was rolled into, if any."""

    incident_id: int
    created: bool
    storm: Recorded | None = None

    def work(self, first: Job) -> list[Job]:
        """The jobs to enqueue once the sighting's evidence is stored: none for a repeat."""
        if not self.created:
            return []
        if self.storm is None:
            return [first]
        # A member is still diagnosed (its thread is the storm's); the storm is analyzed once, then only updated.
        return [first, (ANALYZE if self.storm.created else NOTIFY, {"incident_id": self.storm.incident_id})]


def _detection_key(d: Detection) -> str:
    """One key per sighting: the subject entering a family, at one object version (or time)."""
    version = d.resource_version or d.seen_at.isoformat()
    return f"kube:{d.subject}:{d.family}:{d.reason}:{version}"


def _alert_sighting(alert: Alert) -> Sighting:
    workload = alert.workload or (f"Pod/{alert.pod}" if alert.pod else f"Alert/{alert.name}")
    seen = alert.ends_at if alert.status == "resolved" and alert.ends_at else alert.starts_at
    return Sighting(
        cluster=alert.cluster, namespace=alert.namespace, workload=workload, family=alert.family,
        source="alertmanager", reason=f"{alert.name} {alert.status}", message=redact_text(alert.summary),
        dedup_key=alert.dedup_key, seen_at=seen or datetime.now(UTC), severity=alert.severity,
    )  # fmt: skip

"""The pipeline's stages as plain functions: capture, analyze, notify, remediate. Celery tasks and the embedded
queue both call these, so ``aeth run`` and a fleet of workers do exactly the same thing.

Each stage takes ids, re-reads the incident from the store, and is idempotent: it looks at the incident's state
to see whether its step already happened (a redelivered message, a reconciler's re-enqueue, a retry) and then does
nothing, or only the harmless part (a thread is updated, never posted twice). A stage hands over to the next by
enqueueing its id, after its own result is committed; an enqueue lost in between is made good by the reconciler.

Errors follow `aetherius.errors`: a `TemporaryError` propagates (the caller retries with back-off), and so does a
`PermanentError` that means the task itself is wrong (an unknown id). Bad *evidence* is not a task failure: a
snapshot that cannot be parsed or a pod deleted before capture still gives a diagnosis (``unknown``, saying why),
so the incident always reaches people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aetherius import __version__
from aetherius.diagnoses import Diagnosis
from aetherius.errors import AccessDenied, ApiRejected, IllegalTransition, NotFound, SnapshotError
from aetherius.incidents import ENDED_STATES, IncidentState
from aetherius.snapshots import Snapshot
from aetherius.store import IncidentView, Store
from aetherius.store.evidence import ROOT
from bot.notifying import Notifier, Posted
from bot.threads import build_thread
from knowledge.loading import to_snapshot
from knowledge.redaction import redact_object, redact_text
from tasks.enqueuing import Enqueuer
from tasks.rollups import is_storm, storm_diagnosis
from tasks.routing import ANALYZE, NOTIFY

PodCapture = Callable[[str, str, str], Snapshot]
"""``capture(cluster, namespace, pod)``: the pod's Snapshot via the cluster API; raises `NotFound`, `AccessDenied`..."""
Diagnose = Callable[[Snapshot], Diagnosis]

CAPTURE_REQUESTED = "capture.requested"
"""Audit kind: the intake wants this pod captured for the incident (detail ``pod``)."""
CAPTURE_FAILED = "capture.failed"
UPDATE = "update"
RESOLVED = "resolved"
MODEL = "aetherius-rules+cases"


@dataclass
class Pipeline:
    """What the stages need, built once per process by the composition root (``aetherius.cli.pipeline_wiring``)."""

    store: Store
    diagnose: Diagnose
    notifier: Notifier
    enqueue: Enqueuer
    capture: PodCapture | None = None
    tail_lines: int = 400
    error_lines: int = 200


def capture(p: Pipeline, incident_id: int, pod: str = "") -> str:
    """Capture the pod an alert named (``pod``, or the intake's ``capture.requested`` record), then ``analyze``.

    Also the reconciler's entry for any ``open`` incident: one that needs no capture, or has its snapshot
    already, or whose capture failed for good, goes straight on to analyze.
    """
    incident = p.store.get_incident(incident_id)
    if incident.state is not IncidentState.OPEN:
        return f"incident #{incident_id} is {incident.state}; nothing to capture"
    entries = p.store.audit_log(incident_id=incident_id, limit=500)
    pod = pod or next((str(e.detail.get("pod") or "") for e in entries if e.kind == CAPTURE_REQUESTED), "")
    failed = any(e.kind == CAPTURE_FAILED for e in entries)
    outcome = "no pod to capture"
    if pod and p.capture is not None and not failed and p.store.latest_snapshot(incident_id) is None:
        try:
            snapshot = p.capture(incident.cluster, incident.namespace, pod)
        except (NotFound, AccessDenied, ApiRejected) as err:
            detail = {"pod": pod, "error": redact_text(str(err))}
            p.store.audit(actor="capture", kind=CAPTURE_FAILED, detail=detail, incident_id=incident_id)
            outcome = f"capture failed: {detail['error']}"
        else:
            document = redact_object(snapshot.to_document())
            p.store.save_snapshot(incident_id, document, captured_at=snapshot_time(snapshot))
            outcome = f"captured {incident.namespace}/{pod}"
    p.enqueue(ANALYZE, {"incident_id": incident_id})
    return outcome


def analyze(p: Pipeline, incident_id: int) -> str:
    """Diagnose an ``open`` incident from its latest snapshot, save it (→ ``diagnosed``), enqueue ``notify``."""
    incident = p.store.get_incident(incident_id)
    if incident.state is not IncidentState.OPEN:
        return f"incident #{incident_id} is already {incident.state}"
    if is_storm(incident):
        diagnosis = storm_diagnosis(incident, p.store.occurrences(incident_id))
    else:
        diagnosis = _diagnose(p, incident, p.store.latest_snapshot(incident_id))
    try:
        saved = p.store.save_diagnosis(
            incident_id,
            category=diagnosis.category,
            confidence=diagnosis.confidence,
            summary=diagnosis.summary,
            payload=diagnosis.model_dump(mode="json"),
            model=MODEL,
            version=__version__,
            only_if_open=True,
        )
    except IllegalTransition:  # another run (a redelivery, the reconciler) saved its diagnosis first and notifies
        return f"incident #{incident_id} was diagnosed by a concurrent run; this one is dropped"
    p.enqueue(NOTIFY, {"incident_id": incident_id})
    return f"diagnosed #{incident_id}: {saved.category} ({saved.confidence:.0%})"


def _diagnose(p: Pipeline, incident: IncidentView, document: dict[str, Any] | None) -> Diagnosis:
    subject = f"{incident.namespace}/{incident.workload.rsplit('/', 1)[-1]}"
    if document is None:
        return Diagnosis(
            category="unknown",
            confidence=0.0,
            summary=redact_text(f"{incident.title}. No snapshot of a pod could be captured, so no rule could run."),
            subject=subject,
            evidence=[redact_text(o.message) for o in p.store.occurrences(incident.id)[:3] if o.message],
        )
    try:
        snapshot = to_snapshot(document, tail_lines=p.tail_lines, error_lines=p.error_lines)
    except SnapshotError as err:
        summary = f"{incident.title}. The captured snapshot cannot be used: {err}"
        return Diagnosis(category="unknown", confidence=0.0, summary=redact_text(summary), subject=subject)
    return p.diagnose(snapshot)


def notify(p: Pipeline, incident_id: int) -> str:
    """Post the incident's thread (→ ``notified``), or update it if it has one; mark it when resolved."""
    incident = p.store.get_incident(incident_id)
    if incident.storm_id is not None:
        p.enqueue(NOTIFY, {"incident_id": incident.storm_id})
        return f"incident #{incident_id} is rolled up into storm #{incident.storm_id}"
    if incident.state is IncidentState.OPEN:
        return f"incident #{incident_id} is not diagnosed yet"
    posted = Posted(incident.slack_channel, incident.slack_ts) if incident.slack_channel and incident.slack_ts else None
    if incident.state in ENDED_STATES:
        return _notify_ended(p, incident, posted)
    thread = build_thread(_current_diagnosis(p, incident), cluster=incident.cluster, workload=incident.workload)
    if posted is None:
        posted = p.notifier.post_incident(incident, thread)
        kind = ROOT
    else:
        posted = p.notifier.update_incident(incident, thread, posted)
        kind = UPDATE
    payload = {"header": thread.header, "severity": thread.severity}
    p.store.record_notification(incident_id, channel=posted.channel, kind=kind, payload=payload, message_ts=posted.ts)
    return f"{'posted' if kind == ROOT else 'updated'} #{incident_id} in {posted.channel}"


def _current_diagnosis(p: Pipeline, incident: IncidentView) -> Diagnosis:
    if is_storm(incident):  # drawn from the members as they are now, so the thread grows with the storm
        return storm_diagnosis(incident, p.store.occurrences(incident.id))
    saved = p.store.latest_diagnosis(incident.id)
    if saved is None:
        return Diagnosis(category="unknown", confidence=0.0, summary=redact_text(incident.title))
    return Diagnosis.model_validate(saved.payload)


def _notify_ended(p: Pipeline, incident: IncidentView, posted: Posted | None) -> str:
    if posted is None:
        return f"incident #{incident.id} is {incident.state} and was never posted"
    already = any(
        e.kind == "notification.sent" and e.detail.get("kind") == RESOLVED
        for e in p.store.audit_log(incident_id=incident.id, limit=500)
    )
    if already:
        return f"incident #{incident.id}: its thread already says {incident.state}"
    last = next((t for t in reversed(p.store.transitions(incident.id)) if t.to_state is incident.state), None)
    reason = redact_text(last.reason if last and last.reason else str(incident.state))
    p.notifier.resolve_incident(incident, posted, reason)
    p.store.record_notification(
        incident.id, channel=posted.channel, kind=RESOLVED, payload={"reason": reason}, message_ts=posted.ts
    )
    return f"marked #{incident.id} {incident.state} in {posted.channel}"


def remediate(p: Pipeline, approval_id: int, incident_id: int | None = None) -> str:
    """Record that an approved remediation was handed to the workers (audit log), once per approval.

    Executing the action (dry-run, apply, verify, roll back) is a later issue: this stage is the seam it plugs
    into, so the Slack app can already enqueue approvals and the audit log shows they arrived.
    """
    entries = p.store.audit_log(incident_id=incident_id, limit=500)
    if any(e.kind == "remediation.handed_over" and e.detail.get("approval_id") == approval_id for e in entries):
        return f"approval #{approval_id} was already handed over"
    detail = {"approval_id": approval_id, "executed": False, "note": "action execution is not implemented yet"}
    p.store.audit(actor="worker", kind="remediation.handed_over", detail=detail, incident_id=incident_id)
    return f"approval #{approval_id} handed over"


def snapshot_time(snapshot: Snapshot) -> datetime:
    return snapshot.metadata.captured_at or datetime.now(UTC)

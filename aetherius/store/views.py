"""What the `Store` hands out: frozen values (dataclasses, one named tuple), never live ORM objects.

A Celery task, a Slack listener or the CLI gets a plain snapshot of the row as it was when its transaction
committed. Nothing lazy-loads later from a closed session, and nothing a caller mutates writes itself back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, get_args

from aetherius.incidents import ACTIVE_STATES, IncidentState
from aetherius.store import models

FeedbackKind = Literal["thumbs_up", "thumbs_down", "correction"]
FEEDBACK_KINDS: frozenset[str] = frozenset(get_args(FeedbackKind))
ApprovalStatus = Literal["pending", "approved", "rejected", "expired"]
ActionStatus = Literal["running", "succeeded", "failed", "rolled_back"]
ACTION_ENDINGS: frozenset[str] = frozenset({"succeeded", "failed", "rolled_back"})
NotificationStatus = Literal["pending", "sent", "failed"]

OCCURRENCES = "occurrences"
"""Counter: occurrences stored. With ``DUPLICATES`` and the collectors' ``filtered``, it adds up to ``received``."""
DUPLICATES = "duplicate_occurrences"
"""Counter: occurrences whose dedup key was already stored (replays, relists, Alertmanager repeats)."""


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: int
    fingerprint: str
    cluster: str
    namespace: str
    workload: str
    family: str
    category: str | None
    state: IncidentState
    severity: str
    title: str
    summary: str
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    storm_id: int | None
    recurrence_of: int | None
    slack_channel: str | None
    slack_ts: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @classmethod
    def of(cls, row: models.Incident) -> IncidentView:
        return cls(
            row.id,
            row.fingerprint,
            row.cluster,
            row.namespace,
            row.workload,
            row.family,
            row.category,
            IncidentState(row.state),
            row.severity,
            row.title,
            row.summary,
            row.occurrences,
            row.first_seen,
            row.last_seen,
            row.resolved_at,
            row.storm_id,
            row.recurrence_of,
            row.slack_channel,
            row.slack_ts,
        )


class Recorded(NamedTuple):
    """What `Store.record_occurrence` did: which incident, and whether it opened it (unpacks as a pair)."""

    incident_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    id: int
    incident_id: int
    seen_at: datetime
    source: str
    reason: str
    message: str
    dedup_key: str


@dataclass(frozen=True, slots=True)
class TransitionView:
    incident_id: int
    from_state: IncidentState | None
    to_state: IncidentState
    at: datetime
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    incident_id: int | None
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClusterView:
    name: str
    last_heartbeat: datetime | None
    leader: str | None
    labels: dict[str, Any]

    def stale(self, now: datetime, after_s: float) -> bool:
        """No heartbeat for ``after_s`` seconds (or never): its collector is down or cut off."""
        return self.last_heartbeat is None or now - self.last_heartbeat > timedelta(seconds=after_s)


@dataclass(frozen=True, slots=True)
class DiagnosisView:
    id: int
    incident_id: int
    category: str
    confidence: float
    summary: str
    payload: dict[str, Any]
    model: str
    version: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackView:
    incident_id: int
    user: str
    kind: FeedbackKind
    category: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApprovalView:
    id: int
    incident_id: int
    action_id: str
    params: dict[str, Any]
    requested_by: str
    approvers: list[str]
    status: ApprovalStatus
    expires_at: datetime
    decided_at: datetime | None
    decided_by: str | None


@dataclass(frozen=True, slots=True)
class ActionView:
    id: int
    incident_id: int
    approval_id: int | None
    action_id: str
    params: dict[str, Any]
    status: ActionStatus
    dry_run: dict[str, Any] | None
    rollback: dict[str, Any] | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    id: int
    task: str
    payload: dict[str, Any]
    error: str
    at: datetime

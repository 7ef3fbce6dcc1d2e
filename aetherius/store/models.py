"""The SQL schema of the incident pipeline's state, as SQLAlchemy 2 typed models.

These classes stay inside ``aetherius.store``: the `Store` returns frozen views (``views.py``), so no caller ever
holds a live ORM object tied to a closed session. The migration in ``migrations/versions`` must produce exactly
this schema; a scenario test compares the two.

Portable on purpose: unbounded ``VARCHAR``/``TEXT`` (PostgreSQL would reject an over-long name that SQLite would
keep, and the two backends must behave alike), JSON that is JSONB on PostgreSQL, UTC datetimes, and named
constraints so that migrations can refer to them. ``cluster`` on an incident is a name, not a foreign key: an
Alertmanager alert can name a cluster that has never sent a heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aetherius.incidents import ACTIVE_STATES, IncidentState
from aetherius.store.columns import JSONDocument, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_STATES = ", ".join(f"'{s}'" for s in IncidentState)
ACTIVE_PREDICATE = "state IN ({})".format(", ".join(f"'{s}'" for s in IncidentState if s in ACTIVE_STATES))
"""SQL for "still active"; the partial unique index allows one such incident per fingerprint."""

VERSION_TABLE = "aetherius_alembic_version"
"""Alembic's revision table, not named ``alembic_version`` so that a shared database cannot mix two histories."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument, list[Any]: JSONDocument}


def _incident_fk() -> Mapped[int]:
    """Evidence belongs to its incident: purging an incident purges its rows."""
    return mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)


class Cluster(Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    last_heartbeat: Mapped[datetime | None]
    leader: Mapped[str | None] = mapped_column(String)
    """Identity of the collector replica holding the cluster's Lease."""
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        Index(
            "uq_incidents_active_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=ACTIVE_PREDICATE,
            postgresql_where=ACTIVE_PREDICATE,
        ),
        Index("ix_incidents_cluster_state", "cluster", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String, index=True)
    cluster: Mapped[str] = mapped_column(String)
    namespace: Mapped[str] = mapped_column(String)
    workload: Mapped[str] = mapped_column(String)
    family: Mapped[str] = mapped_column(String)
    """Coarse failure family from detection (``crash``, ``oom``...)."""
    category: Mapped[str | None] = mapped_column(String)
    """Taxonomy id of the latest diagnosis."""
    state: Mapped[str] = mapped_column(String, index=True)
    severity: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    occurrences: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    """When it stopped being active (resolved or closed); cleared by a re-open."""
    storm_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    recurrence_of: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    slack_channel: Mapped[str | None] = mapped_column(String)
    slack_ts: Mapped[str | None] = mapped_column(String)


class Transition(Base):
    __tablename__ = "transitions"
    __table_args__ = (CheckConstraint(f"to_state IN ({_STATES})", name="to_state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    from_state: Mapped[str | None] = mapped_column(String)
    """``None`` for the incident's creation."""
    to_state: Mapped[str] = mapped_column(String)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(Text, default="")


class Occurrence(Base):
    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("incident_id", "dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    seen_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    message: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(String, index=True)


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    captured_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]
    """The SNAPSHOT.md document, already redacted by the caller."""


class Diagnosis(Base):
    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    category: Mapped[str] = mapped_column(String)
    confidence: Mapped[float] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    """The ``aeth diagnose --format json`` contract of this diagnosis."""
    model: Mapped[str] = mapped_column(String)
    version: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    channel: Mapped[str] = mapped_column(String)
    message_ts: Mapped[str | None] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String)
    sent_at: Mapped[datetime | None]


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("incident_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    user_id: Mapped[str] = mapped_column(String)
    """Slack user id (``U0123ABCD``) or CLI user name."""
    kind: Mapped[str] = mapped_column(String)
    category: Mapped[str | None] = mapped_column(String)
    """The category a ``correction`` says is right."""
    created_at: Mapped[datetime]


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    action_id: Mapped[str] = mapped_column(String)
    params: Mapped[dict[str, Any]]
    requested_by: Mapped[str] = mapped_column(String)
    approvers: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String)
    idempotency_key: Mapped[str] = mapped_column(String, unique=True)


class Action(Base):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = _incident_fk()
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id", ondelete="SET NULL"), unique=True)
    """One approval authorises one action run; a retried task finds the run it already started."""
    action_id: Mapped[str] = mapped_column(String)
    params: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String)
    dry_run: Mapped[dict[str, Any] | None]
    """What the server-side dry run said it would change."""
    rollback: Mapped[dict[str, Any] | None]
    """What is needed to undo it (the previous spec, the previous replica count...)."""
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    """Kept when the incident is purged: the audit trail outlives what it is about."""
    kind: Mapped[str] = mapped_column(String)
    detail: Mapped[dict[str, Any]]


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String)
    payload: Mapped[dict[str, Any]]
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("name", "cluster"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String)
    cluster: Mapped[str] = mapped_column(String)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

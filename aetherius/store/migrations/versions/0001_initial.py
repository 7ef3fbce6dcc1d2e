"""The initial state store: clusters, incidents and their evidence, decisions, actions, audit, counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written from an autogenerate run, then reviewed: column types are spelled with plain SQLAlchemy types (a
migration must not import application code that may change later), tables are created parents first, and the
partial unique index that allows one active incident per fingerprint is given for both SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'open', 'diagnosed', 'notified', 'remediating', 'resolved', 'closed'"
ACTIVE = "state IN ('open', 'diagnosed', 'notified', 'remediating')"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _incident_fk(table: str, ondelete: str = "CASCADE", nullable: bool = False) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("incident_id", sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=f"fk_{table}_incident_id_incidents", ondelete=ondelete
        ),
    ]


def _str(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "clusters",
        _id(),
        _str("name"),
        _time("last_heartbeat", nullable=True),
        _str("leader", nullable=True),
        sa.Column("labels", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clusters"),
        sa.UniqueConstraint("name", name="uq_clusters_name"),
    )
    op.create_table(
        "incidents",
        _id(),
        _str("fingerprint"),
        _str("cluster"),
        _str("namespace"),
        _str("workload"),
        _str("family"),
        _str("category", nullable=True),
        _str("state"),
        _str("severity"),
        _text("title"),
        _text("summary"),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        _time("resolved_at", nullable=True),
        sa.Column("storm_id", sa.Integer(), nullable=True),
        sa.Column("recurrence_of", sa.Integer(), nullable=True),
        _str("slack_channel", nullable=True),
        _str("slack_ts", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_incidents_state")),
        sa.ForeignKeyConstraint(
            ["storm_id"], ["incidents.id"], name="fk_incidents_storm_id_incidents", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recurrence_of"], ["incidents.id"], name="fk_incidents_recurrence_of_incidents", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_incidents_fingerprint", "incidents", ["fingerprint"])
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_index("ix_incidents_cluster_state", "incidents", ["cluster", "state"])
    op.create_index("ix_incidents_storm_id", "incidents", ["storm_id"])
    op.create_index(
        "uq_incidents_active_fingerprint",
        "incidents",
        ["fingerprint"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )

    op.create_table(
        "transitions",
        _id(),
        *_incident_fk("transitions"),
        _str("from_state", nullable=True),
        _str("to_state"),
        _time("at"),
        _str("actor"),
        _text("reason"),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.CheckConstraint(f"to_state IN ({STATES})", name=op.f("ck_transitions_to_state")),
    )
    op.create_table(
        "occurrences",
        _id(),
        *_incident_fk("occurrences"),
        _time("seen_at"),
        _str("source"),
        _str("reason"),
        _text("message"),
        _str("dedup_key"),
        sa.PrimaryKeyConstraint("id", name="pk_occurrences"),
        sa.UniqueConstraint("incident_id", "dedup_key", name="uq_occurrences_incident_id_dedup_key"),
    )
    op.create_index("ix_occurrences_dedup_key", "occurrences", ["dedup_key"])
    op.create_table(
        "snapshots",
        _id(),
        *_incident_fk("snapshots"),
        _time("captured_at"),
        sa.Column("document", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
    )
    op.create_table(
        "diagnoses",
        _id(),
        *_incident_fk("diagnoses"),
        _str("category"),
        sa.Column("confidence", sa.Float(), nullable=False),
        _text("summary"),
        sa.Column("payload", _json(), nullable=False),
        _str("model"),
        _str("version"),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_diagnoses"),
    )
    op.create_table(
        "notifications",
        _id(),
        *_incident_fk("notifications"),
        _str("channel"),
        _str("message_ts", nullable=True),
        _str("kind"),
        sa.Column("payload", _json(), nullable=False),
        _str("status"),
        _time("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_table(
        "feedback",
        _id(),
        *_incident_fk("feedback"),
        _str("user_id"),
        _str("kind"),
        _str("category", nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("incident_id", "user_id", "kind", name="uq_feedback_incident_id_user_id_kind"),
    )
    op.create_table(
        "approvals",
        _id(),
        *_incident_fk("approvals"),
        _str("action_id"),
        sa.Column("params", _json(), nullable=False),
        _str("requested_by"),
        sa.Column("approvers", _json(), nullable=False),
        _str("status"),
        _time("created_at"),
        _time("expires_at"),
        _time("decided_at", nullable=True),
        _str("decided_by", nullable=True),
        _str("idempotency_key"),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.UniqueConstraint("idempotency_key", name="uq_approvals_idempotency_key"),
    )
    op.create_table(
        "actions",
        _id(),
        *_incident_fk("actions"),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        _str("action_id"),
        sa.Column("params", _json(), nullable=False),
        _str("status"),
        sa.Column("dry_run", _json(), nullable=True),
        sa.Column("rollback", _json(), nullable=True),
        _text("error", nullable=True),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approvals.id"], name="fk_actions_approval_id_approvals", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("approval_id", name="uq_actions_approval_id"),
    )
    op.create_table(
        "audit_log",
        _id(),
        _time("at"),
        _str("actor"),
        *_incident_fk("audit_log", ondelete="SET NULL", nullable=True),
        _str("kind"),
        sa.Column("detail", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    for table in ("transitions", "occurrences", "snapshots", "diagnoses", "notifications", "feedback", "approvals"):
        op.create_index(f"ix_{table}_incident_id", table, ["incident_id"])
    op.create_index("ix_actions_incident_id", "actions", ["incident_id"])
    op.create_index("ix_audit_log_incident_id", "audit_log", ["incident_id"])

    op.create_table(
        "dead_letters",
        _id(),
        _str("task"),
        sa.Column("payload", _json(), nullable=False),
        _text("error"),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_table(
        "counters",
        _id(),
        _str("name"),
        _str("cluster"),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_counters"),
        sa.UniqueConstraint("name", "cluster", name="uq_counters_name_cluster"),
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes and constraints with it.
    for table in (
        "counters",
        "dead_letters",
        "audit_log",
        "actions",
        "approvals",
        "feedback",
        "notifications",
        "diagnoses",
        "snapshots",
        "occurrences",
        "transitions",
        "incidents",
        "clusters",
    ):
        op.drop_table(table)

"""Reads the Slack app needs that the Store API does not offer: which incident a Slack message belongs to.

Kept here, read-only and small, so listeners can map a reaction or a click back to an incident id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from aetherius.store import Store, models


def incident_for_message(store: Store, channel: str, ts: str) -> int | None:
    """The one incident whose thread root (or another recorded message) is ``ts`` in ``channel``.

    None when no incident or several match: a storm digest is the recorded message of every incident it lists,
    and a reaction on it is feedback about none of them in particular.
    """
    with store._read() as session:
        roots = session.scalars(
            select(models.Incident.id)
            .where(models.Incident.slack_channel == channel, models.Incident.slack_ts == ts)
            .limit(2)
        ).all()
        if not roots:
            roots = session.scalars(
                select(models.Notification.incident_id)
                .where(models.Notification.channel == channel, models.Notification.message_ts == ts)
                .distinct()
                .limit(2)
            ).all()
        return int(roots[0]) if len(roots) == 1 else None


def message_of(store: Store, incident_id: int, kind: str) -> tuple[str, str] | None:
    """``(channel, ts)`` of the incident's latest sent message of ``kind`` (``root``, ``details``...)."""
    with store._read() as session:
        row = session.execute(
            select(models.Notification.channel, models.Notification.message_ts)
            .where(
                models.Notification.incident_id == incident_id,
                models.Notification.kind == kind,
                models.Notification.status == "sent",
                models.Notification.message_ts.is_not(None),
            )
            .order_by(models.Notification.id.desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row is not None and row[1] is not None else None


def feedback_totals(store: Store) -> dict[str, int]:
    """``{"thumbs_up": n, "thumbs_down": n, "correction": n}`` over every incident."""
    totals = {"thumbs_up": 0, "thumbs_down": 0, "correction": 0}
    with store._read() as session:
        for kind, count in session.execute(select(models.Feedback.kind, func.count()).group_by(models.Feedback.kind)):
            totals[str(kind)] = int(count)
    return totals


def overdue_approvals(store: Store, now: datetime, limit: int = 200) -> list[tuple[int, int, str, datetime]]:
    """``(approval id, incident id, action, expires_at)`` of pending approvals past their expiry, oldest first."""
    with store._read() as session:
        rows = session.execute(
            select(
                models.Approval.id, models.Approval.incident_id, models.Approval.action_id, models.Approval.expires_at
            )
            .where(models.Approval.status == "pending", models.Approval.expires_at < now)
            .order_by(models.Approval.expires_at)
            .limit(limit)
        ).all()
    return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows]

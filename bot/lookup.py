"""Reads the Slack app needs that the Store API does not offer: which incident a Slack message belongs to.

Kept here, read-only and small, so listeners can map a reaction or a click back to an incident id.
"""

from __future__ import annotations

from sqlalchemy import func, select

from aetherius.store import Store, models


def incident_for_message(store: Store, channel: str, ts: str) -> int | None:
    """The incident whose root (or any recorded message) is ``ts`` in ``channel``."""
    with store._read() as session:
        found = session.scalars(
            select(models.Incident.id).where(models.Incident.slack_channel == channel, models.Incident.slack_ts == ts)
        ).first()
        if found is not None:
            return int(found)
        found = session.scalars(
            select(models.Notification.incident_id)
            .where(models.Notification.channel == channel, models.Notification.message_ts == ts)
            .limit(1)
        ).first()
        return int(found) if found is not None else None


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

"""What the pipeline learns and says about an incident: snapshots, diagnoses, Slack notifications.

A step's result and the state change it causes commit together. The analyze task saves a diagnosis and the
incident becomes ``diagnosed`` in one transaction; the notify task records the posted root message and the
incident becomes ``notified`` in the same way. A task that crashes in between therefore never leaves a
diagnosis without its state change (or a Slack thread the store does not know about), and its retry sees the
new state and stops.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aetherius.errors import IllegalTransition
from aetherius.incidents import IncidentState
from aetherius.store import models
from aetherius.store.base import utcnow
from aetherius.store.incidents import IncidentOps
from aetherius.store.views import DiagnosisView, NotificationStatus

ROOT = "root"
"""Notification kind of the message that starts an incident's Slack thread."""


class EvidenceOps(IncidentOps):
    def save_snapshot(self, incident_id: int, document: dict[str, Any], *, captured_at: datetime) -> int:
        """Keep a captured snapshot (already redacted by the caller); returns its id."""

        def work(session: Session) -> int:
            self._incident(session, incident_id, lock=False)
            row = models.Snapshot(incident_id=incident_id, captured_at=captured_at, document=document)
            session.add(row)
            session.flush()
            return row.id

        return self._write(work)

    def latest_snapshot(self, incident_id: int) -> dict[str, Any] | None:
        query = (
            select(models.Snapshot.document)
            .where(models.Snapshot.incident_id == incident_id)
            .order_by(models.Snapshot.captured_at.desc(), models.Snapshot.id.desc())
            .limit(1)
        )
        with self._read() as session:
            return session.scalars(query).first()

    def save_diagnosis(
        self,
        incident_id: int,
        *,
        category: str,
        confidence: float,
        summary: str,
        payload: dict[str, Any],
        model: str,
        version: str,
        actor: str = "analyzer",
        at: datetime | None = None,
        advance: bool = True,
        only_if_open: bool = False,
    ) -> DiagnosisView:
        """Store a diagnosis, make it the incident's current one, and (``advance``) move ``open → diagnosed``.

        A re-diagnosis of an incident that is past ``open`` is stored without a state change (see
        `aetherius.incidents`: repeated work inside a stage is not a transition). With ``only_if_open`` it is
        refused instead (`IllegalTransition`, nothing stored): the check runs on the locked row, so of two workers
        that diagnosed the same open incident at once, exactly one saves.
        """
        at = at or utcnow()

        def work(session: Session) -> DiagnosisView:
            incident = self._incident(session, incident_id)
            if only_if_open and incident.state != IncidentState.OPEN:
                raise IllegalTransition(f"incident #{incident_id} is already {incident.state}; diagnosis not saved")
            row = models.Diagnosis(
                incident_id=incident_id,
                category=category,
                confidence=confidence,
                summary=summary,
                payload=payload,
                model=model,
                version=version,
                created_at=at,
            )
            session.add(row)
            incident.category, incident.summary = category, summary
            session.flush()
            self._audit(
                session,
                at,
                actor,
                "diagnosis.saved",
                incident_id,
                {"diagnosis_id": row.id, "category": category, "confidence": confidence},
            )
            if advance and incident.state == IncidentState.OPEN:
                reason = f"diagnosis #{row.id}: {category} ({confidence:.0%})"
                self._move(session, incident, IncidentState.DIAGNOSED, actor, reason, at)
            return _diagnosis_view(row)

        return self._write(work)

    def latest_diagnosis(self, incident_id: int) -> DiagnosisView | None:
        query = (
            select(models.Diagnosis)
            .where(models.Diagnosis.incident_id == incident_id)
            .order_by(models.Diagnosis.id.desc())
            .limit(1)
        )
        with self._read() as session:
            row = session.scalars(query).first()
            return _diagnosis_view(row) if row else None

    def record_notification(
        self,
        incident_id: int,
        *,
        channel: str,
        kind: str,
        payload: dict[str, Any],
        status: NotificationStatus = "sent",
        message_ts: str | None = None,
        actor: str = "notifier",
        at: datetime | None = None,
        advance: bool = True,
    ) -> int:
        """Record a message posted (or attempted) about the incident; returns the notification id.

        A sent ``root`` message becomes the incident's thread (unless it has one), and with ``advance`` a sent
        message moves a ``diagnosed`` incident to ``notified``. Updates and replies are rows, not transitions.
        """
        at = at or utcnow()

        def work(session: Session) -> int:
            incident = self._incident(session, incident_id)
            sent = status == "sent"
            row = models.Notification(
                incident_id=incident_id,
                channel=channel,
                message_ts=message_ts,
                kind=kind,
                payload=payload,
                status=status,
                sent_at=at if sent else None,
            )
            session.add(row)
            session.flush()
            if sent and kind == ROOT and message_ts and incident.slack_ts is None:
                incident.slack_channel, incident.slack_ts = channel, message_ts
            self._audit(
                session,
                at,
                actor,
                f"notification.{status}",
                incident_id,
                {"notification_id": row.id, "channel": channel, "kind": kind, "ts": message_ts},
            )
            if advance and sent and incident.state == IncidentState.DIAGNOSED:
                self._move(session, incident, IncidentState.NOTIFIED, actor, f"posted to {channel}", at)
            return row.id

        return self._write(work)

    def incident_for_message(self, channel: str, ts: str) -> int | None:
        """The one incident whose thread root (or another recorded message) is ``ts`` in ``channel``.

        None when no incident or several match: a storm digest is the recorded message of every incident it lists,
        and a reaction on it is feedback about none of them in particular.
        """
        with self._read() as session:
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

    def sent_message(self, incident_id: int, kind: str) -> tuple[str, str] | None:
        """``(channel, ts)`` of the incident's latest sent message of ``kind`` (``root``, ``details``...)."""
        with self._read() as session:
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


def _diagnosis_view(row: models.Diagnosis) -> DiagnosisView:
    return DiagnosisView(
        row.id,
        row.incident_id,
        row.category,
        row.confidence,
        row.summary,
        row.payload,
        row.model,
        row.version,
        row.created_at,
    )

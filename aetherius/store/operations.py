"""The store's bookkeeping: the cluster registry, the audit log, dead letters and reconciliation counters.

Counters exist so that "every event a collector received became an occurrence, a duplicate, or was filtered"
can be checked from the numbers alone: collectors bump ``received`` and ``filtered``, the store bumps
``occurrences`` and ``duplicate_occurrences`` in the same transaction as the rows they count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aetherius.store import models
from aetherius.store.base import StoreBase, utcnow
from aetherius.store.views import AuditEntry, ClusterView, DeadLetterView


class OperationOps(StoreBase):
    def upsert_cluster_heartbeat(
        self, name: str, at: datetime, leader: str | None, labels: dict[str, Any] | None = None
    ) -> None:
        """Register the cluster or refresh its heartbeat; a change of leader is audited."""

        def work(session: Session) -> None:
            row = session.scalars(select(models.Cluster).where(models.Cluster.name == name).with_for_update()).first()
            if row is None:
                row = models.Cluster(name=name, last_heartbeat=at, leader=leader, labels=labels or {})
                session.add(row)
                session.flush()  # a concurrent first heartbeat loses here and is retried as an update
                self._audit(session, at, leader or "collector", "cluster.registered", None, {"cluster": name})
                return
            if row.last_heartbeat is None or at > row.last_heartbeat:
                row.last_heartbeat = at
            if leader != row.leader:
                detail = {"cluster": name, "from": row.leader, "to": leader}
                self._audit(session, at, leader or "collector", "cluster.leader", None, detail)
                row.leader = leader
            if labels is not None:
                row.labels = labels

        self._write(work)

    def list_clusters(self) -> list[ClusterView]:
        with self._read() as session:
            rows = session.scalars(select(models.Cluster).order_by(models.Cluster.name))
            return [ClusterView(c.name, c.last_heartbeat, c.leader, dict(c.labels)) for c in rows]

    def audit(
        self,
        *,
        actor: str,
        kind: str,
        detail: dict[str, Any] | None = None,
        incident_id: int | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append to the audit log (who did what, to which incident). Store operations audit themselves."""
        at = at or utcnow()

        def work(session: Session) -> None:
            if incident_id is not None:
                self._incident(session, incident_id, lock=False)
            self._audit(session, at, actor, kind, incident_id, detail or {})

        self._write(work)

    def audit_log(self, *, incident_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; one incident's entries when ``incident_id`` is given."""
        query = select(models.AuditLog).order_by(models.AuditLog.id.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(models.AuditLog.incident_id == incident_id)
        with self._read() as session:
            return [AuditEntry(a.id, a.at, a.actor, a.incident_id, a.kind, a.detail) for a in session.scalars(query)]

    def dead_letter(self, task: str, payload: dict[str, Any], error: str, *, at: datetime | None = None) -> int:
        """Park a task that failed for good, with what it was given and why it failed; returns its id."""

        def work(session: Session) -> int:
            row = models.DeadLetter(task=task, payload=payload, error=error, at=at or utcnow())
            session.add(row)
            session.flush()
            return row.id

        return self._write(work)

    def dead_letters(self, *, limit: int = 100) -> list[DeadLetterView]:
        query = select(models.DeadLetter).order_by(models.DeadLetter.id.desc()).limit(limit)
        with self._read() as session:
            return [DeadLetterView(d.id, d.task, d.payload, d.error, d.at) for d in session.scalars(query)]

    def bump_counter(self, name: str, cluster: str, n: int = 1) -> None:
        self._write(lambda session: self._count(session, name, cluster, n))

    def counters(self) -> dict[tuple[str, str], int]:
        """``{(name, cluster): value}``."""
        with self._read() as session:
            return {(c.name, c.cluster): c.value for c in session.scalars(select(models.Counter))}

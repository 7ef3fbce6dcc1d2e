"""Incidents in the store: occurrences in, incidents opened, moved through their states, listed.

The rules live in `aetherius.incidents` (pure); this module applies them to rows, atomically:

- `record_occurrence` adds to the *active* incident of a fingerprint or opens one. A dedup key already stored for
  the fingerprint (on any of its incidents, even a resolved one) is a replay and changes nothing, so a relisting
  watch cannot re-open history. A problem that comes back after its incident was resolved or closed opens a new
  incident with ``recurrence_of`` pointing at the last one (see `aetherius.incidents` for why it is not re-opened).
- `transition` checks the state machine under a row lock and writes the incident, a Transition row and an audit
  entry in one transaction; a refused move writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aetherius.errors import IllegalTransition
from aetherius.incidents import ACTIVE_STATES, ENDED_STATES, OCCURRENCE_SOURCES, IncidentState, check_transition
from aetherius.store import models
from aetherius.store.base import StoreBase, utcnow
from aetherius.store.views import DUPLICATES, OCCURRENCES, IncidentView, OccurrenceView, Recorded, TransitionView

_ACTIVE = [str(s) for s in ACTIVE_STATES]


class IncidentOps(StoreBase):
    def record_occurrence(
        self,
        *,
        fingerprint: str,
        cluster: str,
        namespace: str,
        workload: str,
        family: str,
        source: str,
        reason: str,
        message: str,
        dedup_key: str,
        seen_at: datetime,
        severity: str = "warning",
        title: str = "",
    ) -> Recorded:
        """Attach one sighting to the fingerprint's active incident, or open one. Idempotent per dedup key."""
        if source not in OCCURRENCE_SOURCES:
            raise ValueError(f"unknown occurrence source {source!r}; expected one of {sorted(OCCURRENCE_SOURCES)}")

        def work(session: Session) -> Recorded:
            active = session.scalars(
                select(models.Incident)
                .where(models.Incident.fingerprint == fingerprint, models.Incident.state.in_(_ACTIVE))
                .with_for_update()
            ).first()
            replayed = session.scalars(
                select(models.Occurrence.incident_id)
                .join(models.Incident, models.Incident.id == models.Occurrence.incident_id)
                .where(models.Incident.fingerprint == fingerprint, models.Occurrence.dedup_key == dedup_key)
                .limit(1)
            ).first()
            if replayed is not None:
                self._count(session, DUPLICATES, cluster, 1)
                return Recorded(replayed, created=False)
            created = active is None
            if active is None:
                title_ = title or f"{family} in {namespace}/{workload}"
                active = models.Incident(
                    fingerprint=fingerprint,
                    cluster=cluster,
                    namespace=namespace,
                    workload=workload,
                    family=family,
                    severity=severity,
                    title=title_,
                    summary="",
                    occurrences=0,
                    first_seen=seen_at,
                    last_seen=seen_at,
                )
                self._open(session, active, f"collector:{source}")
            else:
                active.first_seen = min(active.first_seen, seen_at)
                active.last_seen = max(active.last_seen, seen_at)
            active.occurrences += 1
            session.add(
                models.Occurrence(
                    incident_id=active.id,
                    seen_at=seen_at,
                    source=source,
                    reason=reason,
                    message=message,
                    dedup_key=dedup_key,
                )
            )
            self._count(session, OCCURRENCES, cluster, 1)
            session.flush()
            return Recorded(active.id, created=created)

        return self._write(work)

    def _open(self, session: Session, row: models.Incident, actor: str) -> None:
        """Insert a new incident in state ``open``, linked to the fingerprint's previous incident if any."""
        previous = session.scalars(
            select(models.Incident.id)
            .where(models.Incident.fingerprint == row.fingerprint)
            .order_by(models.Incident.id.desc())
        ).first()
        row.state, row.recurrence_of = IncidentState.OPEN.value, previous
        session.add(row)
        session.flush()  # a concurrent opener loses here, on the partial unique index, and is retried
        reason = "recurrence" if previous is not None else "first occurrence"
        session.add(
            models.Transition(
                incident_id=row.id, from_state=None, to_state=row.state, at=row.first_seen, actor=actor, reason=reason
            )
        )
        detail = {"fingerprint": row.fingerprint, "recurrence_of": previous}
        self._audit(session, row.first_seen, actor, "incident.opened", row.id, detail)

    def transition(
        self, incident_id: int, target: IncidentState, *, actor: str, reason: str = "", at: datetime | None = None
    ) -> IncidentView:
        """Move the incident to ``target`` if the state machine allows it; `IllegalTransition` otherwise."""
        target = IncidentState(target)

        def work(session: Session) -> IncidentView:
            row = self._incident(session, incident_id)
            self._move(session, row, target, actor, reason, at or utcnow())
            return IncidentView.of(row)

        return self._write(work)

    def _move(
        self, session: Session, row: models.Incident, target: IncidentState, actor: str, reason: str, at: datetime
    ) -> None:
        """Apply one checked transition to a locked row, with its Transition and audit rows."""
        current = IncidentState(row.state)
        check_transition(current, target)
        if target is IncidentState.OPEN:
            other = session.scalars(
                select(models.Incident.id).where(
                    models.Incident.fingerprint == row.fingerprint,
                    models.Incident.state.in_(_ACTIVE),
                    models.Incident.id != row.id,
                )
            ).first()
            if other is not None:
                raise IllegalTransition(
                    f"incident #{row.id} cannot be re-opened: #{other} is active for the same fault"
                )
        row.state = target.value
        if target in ENDED_STATES:
            row.resolved_at = row.resolved_at or at  # resolved → closed keeps the time it was resolved
        else:
            row.resolved_at = None
        session.add(
            models.Transition(
                incident_id=row.id, from_state=current.value, to_state=target.value, at=at, actor=actor, reason=reason
            )
        )
        self._audit(
            session,
            at,
            actor,
            "incident.transition",
            row.id,
            {"from": current.value, "to": target.value, "reason": reason},
        )
        session.flush()  # a re-open racing a new incident fails here and is retried, then refused above

    def get_incident(self, incident_id: int) -> IncidentView:
        """The incident as it is now; `UnknownRecord` when there is none."""
        with self._read() as session:
            return IncidentView.of(self._incident(session, incident_id, lock=False))

    def find_active(self, fingerprint: str) -> IncidentView | None:
        """The fingerprint's active incident, if any (storm control, ``aeth`` commands)."""
        with self._read() as session:
            row = session.scalars(
                select(models.Incident).where(
                    models.Incident.fingerprint == fingerprint, models.Incident.state.in_(_ACTIVE)
                )
            ).first()
            return IncidentView.of(row) if row else None

    def list_incidents(
        self, *, states: Iterable[IncidentState] | None = None, cluster: str | None = None, limit: int = 50
    ) -> list[IncidentView]:
        """Newest first (by opening order); ``states=ACTIVE_STATES`` for what still needs attention."""
        query = select(models.Incident).order_by(models.Incident.id.desc()).limit(limit)
        if states is not None:
            query = query.where(models.Incident.state.in_([IncidentState(s).value for s in states]))
        if cluster is not None:
            query = query.where(models.Incident.cluster == cluster)
        with self._read() as session:
            return [IncidentView.of(row) for row in session.scalars(query)]

    def occurrences(self, incident_id: int) -> list[OccurrenceView]:
        """The incident's sightings, oldest first."""
        query = (
            select(models.Occurrence)
            .where(models.Occurrence.incident_id == incident_id)
            .order_by(models.Occurrence.seen_at, models.Occurrence.id)
        )
        with self._read() as session:
            return [
                OccurrenceView(o.id, o.incident_id, o.seen_at, o.source, o.reason, o.message, o.dedup_key)
                for o in session.scalars(query)
            ]

    def transitions(self, incident_id: int) -> list[TransitionView]:
        """The incident's timeline, its creation first."""
        query = (
            select(models.Transition).where(models.Transition.incident_id == incident_id).order_by(models.Transition.id)
        )
        with self._read() as session:
            return [
                TransitionView(
                    t.incident_id,
                    IncidentState(t.from_state) if t.from_state else None,
                    IncidentState(t.to_state),
                    t.at,
                    t.actor,
                    t.reason,
                )
                for t in session.scalars(query)
            ]

    def set_storm(self, incident_id: int, storm_id: int | None, *, actor: str, at: datetime | None = None) -> None:
        """Roll the incident up into a storm incident (``None`` takes it out again)."""

        def work(session: Session) -> None:
            row = self._incident(session, incident_id)
            if storm_id is not None:
                self._incident(session, storm_id)
            row.storm_id = storm_id
            self._audit(session, at or utcnow(), actor, "incident.storm", incident_id, {"storm_id": storm_id})

        self._write(work)

    def set_thread(self, incident_id: int, channel: str, ts: str, *, actor: str, at: datetime | None = None) -> None:
        """Remember the Slack thread the incident lives in (its root message)."""

        def work(session: Session) -> None:
            row = self._incident(session, incident_id)
            row.slack_channel, row.slack_ts = channel, ts
            self._audit(session, at or utcnow(), actor, "incident.thread", incident_id, {"channel": channel, "ts": ts})

        self._write(work)

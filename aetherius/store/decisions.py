"""What people decide in the thread and what the bot then does: feedback, approvals, remediation actions.

Everything here is idempotent, because Slack retries deliveries and people double-click:

- feedback is unique per (incident, user, kind): a second 👍 changes nothing, a second correction replaces the
  category of the first;
- an approval request is unique per idempotency key; deciding it twice the same way is a no-op, the other way
  is refused (`IllegalTransition`); a decision after ``expires_at`` marks it ``expired`` instead;
- an approval authorises one action run: starting it again returns the run already started.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aetherius.errors import IllegalTransition, UnknownRecord
from aetherius.incidents import IncidentState
from aetherius.store import models
from aetherius.store.base import utcnow
from aetherius.store.incidents import IncidentOps
from aetherius.store.views import (
    ACTION_ENDINGS,
    FEEDBACK_KINDS,
    ActionStatus,
    ActionView,
    ApprovalStatus,
    ApprovalView,
    FeedbackKind,
    FeedbackView,
)
from aetherius.taxonomy import is_category

R = TypeVar("R", models.Approval, models.Action)


class DecisionOps(IncidentOps):
    def add_feedback(
        self,
        incident_id: int,
        *,
        user: str,
        kind: FeedbackKind,
        category: str | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Store a reaction or a correction; ``False`` when it was already stored exactly so."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}; expected one of {sorted(FEEDBACK_KINDS)}")
        if kind == "correction" and (category is None or not is_category(category)):
            raise ValueError(f"a correction needs a taxonomy category, not {category!r}")
        category = category if kind == "correction" else None
        at = at or utcnow()

        def work(session: Session) -> bool:
            self._incident(session, incident_id, lock=False)
            row = session.scalars(
                select(models.Feedback).where(
                    models.Feedback.incident_id == incident_id,
                    models.Feedback.user_id == user,
                    models.Feedback.kind == kind,
                )
            ).first()
            if row is not None and row.category == category:
                return False
            if row is None:
                session.add(
                    models.Feedback(incident_id=incident_id, user_id=user, kind=kind, category=category, created_at=at)
                )
            else:
                row.category, row.created_at = category, at
            session.flush()
            self._audit(session, at, user, "feedback.added", incident_id, {"kind": kind, "category": category})
            return True

        return self._write(work)

    def remove_feedback(self, incident_id: int, *, user: str, kind: FeedbackKind, at: datetime | None = None) -> bool:
        """Take a reaction back (Slack ``reaction_removed``); ``False`` when there was none."""

        def work(session: Session) -> bool:
            where = (
                models.Feedback.incident_id == incident_id,
                models.Feedback.user_id == user,
                models.Feedback.kind == kind,
            )
            if session.scalars(select(models.Feedback.id).where(*where)).first() is None:
                return False
            session.execute(delete(models.Feedback).where(*where))
            self._audit(session, at or utcnow(), user, "feedback.removed", incident_id, {"kind": kind})
            return True

        return self._write(work)

    def feedback(self, incident_id: int) -> list[FeedbackView]:
        query = select(models.Feedback).where(models.Feedback.incident_id == incident_id).order_by(models.Feedback.id)
        with self._read() as session:
            return [
                FeedbackView(f.incident_id, f.user_id, cast(FeedbackKind, f.kind), f.category, f.created_at)
                for f in session.scalars(query)
            ]

    def feedback_totals(self) -> dict[str, int]:
        """``{"thumbs_up": n, "thumbs_down": n, "correction": n}`` over every incident."""
        totals = {"thumbs_up": 0, "thumbs_down": 0, "correction": 0}
        query = select(models.Feedback.kind, func.count()).group_by(models.Feedback.kind)
        with self._read() as session:
            for kind, count in session.execute(query):
                totals[str(kind)] = int(count)
        return totals

    def overdue_approvals(self, now: datetime, limit: int = 200) -> list[tuple[int, int, str, datetime]]:
        """``(approval id, incident id, action, expires_at)`` of pending approvals past their expiry, oldest first."""
        a = models.Approval
        query = (
            select(a.id, a.incident_id, a.action_id, a.expires_at)
            .where(a.status == "pending", a.expires_at < now)
            .order_by(a.expires_at)
            .limit(limit)
        )
        with self._read() as session:
            rows = session.execute(query).all()
        return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows]

    def request_approval(
        self,
        incident_id: int,
        *,
        action_id: str,
        params: dict[str, Any],
        requested_by: str,
        approvers: list[str],
        expires_at: datetime,
        idempotency_key: str,
        at: datetime | None = None,
    ) -> ApprovalView:
        """Ask for an approval; the same ``idempotency_key`` returns the request made before."""
        at = at or utcnow()

        def work(session: Session) -> ApprovalView:
            existing = session.scalars(
                select(models.Approval).where(models.Approval.idempotency_key == idempotency_key)
            ).first()
            if existing is not None:
                return _approval_view(existing)
            self._incident(session, incident_id, lock=False)
            row = models.Approval(
                incident_id=incident_id,
                action_id=action_id,
                params=params,
                approvers=approvers,
                requested_by=requested_by,
                status="pending",
                created_at=at,
                expires_at=expires_at,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                at,
                requested_by,
                "approval.requested",
                incident_id,
                {"approval_id": row.id, "action_id": action_id, "approvers": approvers},
            )
            return _approval_view(row)

        return self._write(work)

    def decide_approval(self, approval_id: int, *, approve: bool, by: str, at: datetime | None = None) -> ApprovalView:
        """Approve or reject a pending request. Check ``status`` in the answer: it may say ``expired``."""
        at = at or utcnow()
        wanted: ApprovalStatus = "approved" if approve else "rejected"

        def work(session: Session) -> ApprovalView:
            row = _locked(session, models.Approval, approval_id, "approval")
            if row.status == wanted:
                return _approval_view(row)
            if row.status != "pending":
                raise IllegalTransition(f"approval #{approval_id} is already {row.status}; it cannot become {wanted}")
            row.status = "expired" if at > row.expires_at else wanted
            row.decided_at, row.decided_by = at, by
            self._audit(session, at, by, f"approval.{row.status}", row.incident_id, {"approval_id": approval_id})
            return _approval_view(row)

        return self._write(work)

    def start_action(
        self,
        incident_id: int,
        *,
        action_id: str,
        params: dict[str, Any],
        actor: str,
        approval_id: int | None = None,
        dry_run: dict[str, Any] | None = None,
        rollback: dict[str, Any] | None = None,
        at: datetime | None = None,
        advance: bool = True,
    ) -> ActionView:
        """Record a remediation run starting; with ``advance``, a ``notified`` incident becomes ``remediating``.

        With an ``approval_id``, the approval must be approved and about this incident; a second start under the
        same approval returns the first run.
        """
        at = at or utcnow()

        def work(session: Session) -> ActionView:
            incident = self._incident(session, incident_id)
            if approval_id is not None:
                approval = _locked(session, models.Approval, approval_id, "approval")
                if approval.incident_id != incident_id or approval.status != "approved":
                    raise IllegalTransition(
                        f"approval #{approval_id} is {approval.status} for incident "
                        f"#{approval.incident_id}; it does not authorise this run"
                    )
                started = session.scalars(select(models.Action).where(models.Action.approval_id == approval_id)).first()
                if started is not None:
                    return _action_view(started)
            row = models.Action(
                incident_id=incident_id,
                approval_id=approval_id,
                action_id=action_id,
                params=params,
                status="running",
                dry_run=dry_run,
                rollback=rollback,
                started_at=at,
            )
            session.add(row)
            session.flush()
            self._audit(session, at, actor, "action.started", incident_id, {"action": row.id, "action_id": action_id})
            if advance and incident.state == IncidentState.NOTIFIED:
                self._move(session, incident, IncidentState.REMEDIATING, actor, f"{action_id} (run #{row.id})", at)
            return _action_view(row)

        return self._write(work)

    def finish_action(
        self,
        action: int,
        *,
        status: ActionStatus,
        actor: str,
        error: str | None = None,
        rollback: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> ActionView:
        """Record how a run ended. The incident's next state (resolved after verification, or back to notified)
        is the remediation flow's call, made with `transition`."""
        if status not in ACTION_ENDINGS:
            raise ValueError(f"an action ends as one of {sorted(ACTION_ENDINGS)}, not {status!r}")
        at = at or utcnow()

        def work(session: Session) -> ActionView:
            row = _locked(session, models.Action, action, "action")
            if row.status == status:
                return _action_view(row)
            if row.status != "running":
                raise IllegalTransition(f"action run #{action} already ended as {row.status}")
            row.status, row.error, row.finished_at = status, error, at
            row.rollback = rollback if rollback is not None else row.rollback
            self._audit(session, at, actor, f"action.{status}", row.incident_id, {"action": action, "error": error})
            return _action_view(row)

        return self._write(work)


def _locked(session: Session, model: type[R], pk: int, what: str) -> R:
    row = session.scalars(select(model).where(model.id == pk).with_for_update()).first()
    if row is None:
        raise UnknownRecord(f"no {what} #{pk} in the state store")
    return row


def _approval_view(row: models.Approval) -> ApprovalView:
    return ApprovalView(
        row.id,
        row.incident_id,
        row.action_id,
        row.params,
        row.requested_by,
        list(row.approvers),
        cast(ApprovalStatus, row.status),
        row.expires_at,
        row.decided_at,
        row.decided_by,
    )


def _action_view(row: models.Action) -> ActionView:
    return ActionView(
        row.id,
        row.incident_id,
        row.approval_id,
        row.action_id,
        row.params,
        cast(ActionStatus, row.status),
        row.dry_run,
        row.rollback,
        row.error,
        row.started_at,
        row.finished_at,
    )

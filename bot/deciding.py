"""An Approve / Reject click, applied: approval record, policy verdict, store decision, thread note, hand-over.

The policy is `bot.approvals` (pure); the guarantees come from the store: the request is unique per
(incident, action, diagnosis), a decision is taken once (`Store.decide_approval` is idempotent and refuses the
opposite decision), and only the click whose transaction made the decision hands the approval over, so a double
click, a retried request or a stale message can never hand it over twice.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from aetherius.errors import AetheriusError, IllegalTransition
from aetherius.store.views import ApprovalView
from bot.approvals import REFUSALS, Pending, approvers_for, is_group, judge
from bot.blocks import Block
from bot.context import BotContext
from bot.notifier import details_blocks, thread_of
from bot.ports import APPROVED

log = logging.getLogger("aetherius.slack")
VOTE = "approval.vote"


def expand(client: WebClient, approvers: list[str]) -> frozenset[str]:
    """User ids of the approvers, user groups expanded (a group Slack cannot list grants nobody)."""
    users: set[str] = set()
    for approver in approvers:
        if not is_group(approver):
            users.add(approver)
            continue
        try:
            users.update(client.usergroups_users_list(usergroup=approver).get("users") or [])
        except SlackApiError as err:
            log.warning("cannot list user group %s: %s", approver, err.response.get("error"))
    return frozenset(users)


def votes(ctx: BotContext, approval: ApprovalView) -> frozenset[str]:
    entries = ctx.store.audit_log(incident_id=approval.incident_id, limit=500)
    return frozenset(e.actor for e in entries if e.kind == VOTE and e.detail.get("approval_id") == approval.id)


def handle_click(ctx: BotContext, client: WebClient, body: dict[str, Any], *, approve: bool) -> str | None:
    """Apply one click; returns what to tell the clicker privately (None: the thread says it)."""
    user = body["user"]["id"]
    incident_id, _, action = body["actions"][0]["value"].partition(":")
    if not incident_id.isdigit():
        return "This message is not about a stored incident; nothing to approve."
    now = ctx.clock()
    incident = ctx.store.get_incident(int(incident_id))
    diagnosis = ctx.store.latest_diagnosis(incident.id)
    recs = (
        [r for r in (diagnosis.payload.get("recommendations") or []) if r.get("action") == action] if diagnosis else []
    )
    if not incident.active or diagnosis is None or not recs:
        return "This message is stale: the incident or its recommendation changed. Nothing was approved."
    risk = str(recs[0].get("risk") or "high")
    approvers = approvers_for(ctx.approvers, incident.cluster, incident.namespace)
    request = ctx.store.request_approval(
        incident.id,
        action_id=action,
        params={"risk": risk, "params": recs[0].get("params") or {}},
        requested_by=user,
        approvers=approvers,
        expires_at=now + timedelta(seconds=ctx.approval_ttl_s),
        idempotency_key=f"{incident.id}:{action}:{diagnosis.id}",
        at=now,
    )
    pending = Pending(request.requested_by, risk, request.status, request.expires_at, votes(ctx, request))
    verdict = judge(pending, user=user, approve=approve, at=now, allowed=expand(client, approvers))
    if verdict in ("not_allowed", "self_approval", "already_decided"):
        return REFUSALS[verdict]
    if verdict == "expired":
        ctx.store.decide_approval(request.id, approve=approve, by=user, at=now)
        _replace_buttons(ctx, incident.id, action, f"⌛ approval of `{action}` expired at {_hhmm(request.expires_at)}")
        return REFUSALS[verdict]
    if approve:
        ctx.store.audit(actor=user, kind=VOTE, detail={"approval_id": request.id}, incident_id=incident.id, at=now)
    if verdict == "recorded":
        # Read again after our vote committed: approvers clicking at the same moment each saw the others missing,
        # and whoever commits last must still see the quorum (the store and `seen` make the decision count once).
        pending = dataclasses.replace(pending, approvals=votes(ctx, request))
        if judge(pending, user=user, approve=True, at=now, allowed=frozenset({user})) != "approved":
            ctx.notifier.reply(incident.id, f"<@{user}> approved `{action}` ({risk} risk): 1 of 2, {_hhmm(now)}")
            return None
    voters = sorted((pending.approvals | {user}) - ({request.requested_by} if risk == "high" else set()))
    decided = ctx.store.decide_approval(request.id, approve=approve, by=",".join(voters) if approve else user, at=now)
    if not _decided_now(decided, now) or not ctx.seen.first_time(f"approval:{request.id}:decided"):
        return REFUSALS["already_decided"]  # another click's transaction made the decision
    who = ", ".join(f"<@{v}>" for v in (voters if approve else [user]))
    word = "approved" if approve else "rejected"
    _replace_buttons(ctx, incident.id, action, f"`{action}` {word} by {who} at {_hhmm(now)}")
    ctx.notifier.reply(incident.id, f"`{action}` {word} by {who} at {_hhmm(now)} (approval #{request.id})")
    if approve:
        ctx.enqueue(APPROVED, {"approval_id": str(request.id), "incident_id": str(incident.id)})
    return None


def expire_overdue(ctx: BotContext) -> int:
    """Expire pending approvals nobody decided in time and turn their buttons into a note; returns how many.

    Run periodically (``aeth serve`` does, every minute): a click on an expired button is refused anyway, this
    makes the thread say so before anyone clicks.
    """
    now = ctx.clock()
    expired = 0
    for approval_id, incident_id, action, expires_at in ctx.store.overdue_approvals(now):
        try:
            view = ctx.store.decide_approval(approval_id, approve=False, by="aetherius", at=now)
        except IllegalTransition:  # decided by a click since the query: nothing to expire
            continue
        if view.status == "expired":
            expired += 1
            _replace_buttons(ctx, incident_id, action, f"⌛ approval of `{action}` expired at {_hhmm(expires_at)}")
    return expired


def _decided_now(view: ApprovalView, at: datetime) -> bool:
    return (
        view.status in ("approved", "rejected")
        and view.decided_at is not None
        and abs((view.decided_at - at).total_seconds()) < 1e-3
    )


def _hhmm(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _replace_buttons(ctx: BotContext, incident_id: int, action: str, note: str) -> None:
    """The recommendation's buttons become a one-line note in the details message."""
    try:
        incident = ctx.store.get_incident(incident_id)
        diagnosis = ctx.store.latest_diagnosis(incident_id)
    except AetheriusError:
        return
    thread = thread_of(incident, diagnosis.payload if diagnosis else None)
    blocks: list[Block] = []
    for block in details_blocks(thread, incident_id):
        values = {e.get("value") for e in block.get("elements", []) if block["type"] == "actions"}
        if f"{incident_id}:{action}" in values:
            block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
        blocks.append(block)
    ctx.notifier.replace_details(incident_id, blocks, note)

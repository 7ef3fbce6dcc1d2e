"""Who may approve what (pure): the authorization table behind the Approve / Reject buttons.

::

    situation                                            verdict
    request no longer pending (approved, rejected...)    already_decided   (a second click changes nothing)
    clicked after expires_at                             expired           (buttons become a note)
    clicker is not an approver of cluster/namespace      not_allowed
    reject by an approver                                rejected
    approve of a high-risk action by its requester       self_approval     (refused)
    approve, distinct approvers now >= quorum            approved          (handed over by id, once)
    approve, still short of the quorum                   recorded          (1 of 2; the same person twice counts once)

The quorum is one approver, two distinct ones for high risk. The requester is whoever first pressed a button on
the recommendation; for low and medium risk their own press counts as the approval when they are an approver.
Approvers are Slack user ids (``U…``/``W…``) or user groups (``S…``) per ``cluster/namespace`` pattern; groups are
expanded by the caller (one API call), so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Literal

Verdict = Literal["approved", "recorded", "rejected", "not_allowed", "self_approval", "expired", "already_decided"]


@dataclass(frozen=True)
class Pending:
    """An approval request as the policy needs to see it."""

    requested_by: str
    risk: str
    status: str
    expires_at: datetime
    approvals: frozenset[str]
    """Distinct users whose approval is already recorded."""


def quorum(risk: str) -> int:
    return 2 if risk == "high" else 1


def approvers_for(table: Mapping[str, Iterable[str]], cluster: str, namespace: str) -> list[str]:
    """Every approver whose ``cluster/namespace`` pattern matches (all matching patterns add up)."""
    found: list[str] = []
    for pattern, people in table.items():
        cluster_part, _, namespace_part = pattern.partition("/")
        if fnmatchcase(cluster, cluster_part or "*") and fnmatchcase(namespace, namespace_part or "*"):
            found += [p for p in people if p not in found]
    return found


def is_group(approver: str) -> bool:
    return approver.startswith("S")


def judge(request: Pending, *, user: str, approve: bool, at: datetime, allowed: frozenset[str]) -> Verdict:
    """What one click does to the request; ``allowed`` holds the approvers' user ids, groups expanded."""
    if request.status != "pending":
        return "already_decided"
    if at > request.expires_at:
        return "expired"
    if user not in allowed:
        return "not_allowed"
    if not approve:
        return "rejected"
    if request.risk == "high" and user == request.requested_by:
        return "self_approval"
    voters = request.approvals | {user}
    if request.risk == "high":
        voters -= {request.requested_by}
    return "approved" if len(voters) >= quorum(request.risk) else "recorded"


REFUSALS: dict[Verdict, str] = {
    "already_decided": "This approval was already decided; nothing changed.",
    "expired": "This approval expired; ask for a fresh diagnosis with `/aeth diagnose`.",
    "not_allowed": "You are not an approver for this cluster/namespace.",
    "self_approval": "You requested this high-risk action; two other approvers must approve it.",
}
"""What the clicker is told (ephemerally) when their click changes nothing."""

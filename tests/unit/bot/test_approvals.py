"""The approval authorization table (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.approvals import Pending, Verdict, approvers_for, judge

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ALLOWED = frozenset({"U_ANN", "U_BEN", "U_CAT"})


def pending(
    risk: str = "low", *, by: str = "U_ANN", approvals: set[str] | None = None, status: str = "pending"
) -> Pending:
    return Pending(by, risk, status, NOW + timedelta(minutes=30), frozenset(approvals or set()))


@pytest.mark.parametrize(
    ("request_", "user", "approve", "at", "verdict"),
    [
        (pending("low"), "U_ANN", True, NOW, "approved"),  # an approver's own low-risk request
        (pending("medium", by="U_EVE"), "U_BEN", True, NOW, "approved"),
        (pending("low"), "U_EVE", True, NOW, "not_allowed"),
        (pending("low"), "U_EVE", False, NOW, "not_allowed"),  # rejecting needs the right too
        (pending("high"), "U_ANN", True, NOW, "self_approval"),
        (pending("high"), "U_BEN", True, NOW, "recorded"),  # one of two
        (pending("high", approvals={"U_BEN"}), "U_BEN", True, NOW, "recorded"),  # the same approver twice
        (pending("high", approvals={"U_BEN"}), "U_CAT", True, NOW, "approved"),  # two distinct approvers
        (pending("high", approvals={"U_ANN", "U_BEN"}), "U_BEN", True, NOW, "recorded"),  # the requester never counts
        (pending("high"), "U_ANN", False, NOW, "rejected"),  # a requester may withdraw
        (pending("low"), "U_BEN", True, NOW + timedelta(minutes=31), "expired"),
        (pending("low", status="approved"), "U_BEN", True, NOW, "already_decided"),  # double click
        (pending("low", status="rejected"), "U_BEN", True, NOW, "already_decided"),
        (pending("low", status="expired"), "U_BEN", False, NOW, "already_decided"),
    ],
)
def test_the_authorization_table(request_: Pending, user: str, approve: bool, at: datetime, verdict: Verdict) -> None:
    assert judge(request_, user=user, approve=approve, at=at, allowed=ALLOWED) == verdict


def test_approvers_add_up_over_every_matching_cluster_namespace_pattern() -> None:
    table = {"prod/shop": ["U_ANN"], "prod/*": ["U_BEN", "U_ANN"], "*": ["S_SRE"], "staging/*": ["U_EVE"]}
    assert approvers_for(table, "prod", "shop") == ["U_ANN", "U_BEN", "S_SRE"]
    assert approvers_for(table, "prod", "web") == ["U_BEN", "U_ANN", "S_SRE"]
    assert approvers_for({}, "prod", "shop") == []

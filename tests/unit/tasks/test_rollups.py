"""Storm incidents read as one diagnosis listing their members."""

from __future__ import annotations

from datetime import UTC, datetime

from aetherius.incidents import IncidentState
from aetherius.store import IncidentView
from aetherius.store.views import OccurrenceView
from tasks.rollups import SHOWN_MEMBERS, member_key, storm_diagnosis, storm_workload

T = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
STORM = IncidentView(9, "fp", "prod", "shop", storm_workload("prod/shop"), "storm", None, IncidentState.OPEN,
                     "high", "incident storm in prod/shop", "", 3, T, T, None, None, None, None, None)  # fmt: skip


def member(n: int, family: str) -> OccurrenceView:
    return OccurrenceView(n, 9, T, "storm", "storm", f"#{n} shop/Deployment/svc{n} {family}", member_key(n))


def test_a_storm_diagnosis_counts_its_members_by_family() -> None:
    found = storm_diagnosis(STORM, [member(1, "crash"), member(2, "image"), member(3, "crash")])
    assert found.category == "unknown" and found.subject == "prod/shop"
    assert "3 new incidents within the storm window (2 crash, 1 image)" in found.summary
    assert found.evidence[0] == "member #1 shop/Deployment/svc1 crash"


def test_a_big_storm_lists_the_first_members_and_counts_the_rest() -> None:
    found = storm_diagnosis(STORM, [member(n, "crash") for n in range(SHOWN_MEMBERS + 7)])
    assert len(found.evidence) == SHOWN_MEMBERS + 1 and found.evidence[-1].startswith("... and 7 more")

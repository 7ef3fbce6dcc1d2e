"""The reconciler re-enqueues only incidents that waited in one state for a whole pass."""

from __future__ import annotations

from datetime import UTC, datetime

from aetherius.incidents import IncidentState
from aetherius.store import IncidentView
from tasks.reconciling import NEXT_TASK, stuck

S = IncidentState
T = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)


def incident(id_: int, state: IncidentState, storm_id: int | None = None) -> IncidentView:
    return IncidentView(id_, f"fp{id_}", "c", "ns", "Deployment/api", "crash", None, state, "warning", "t", "", 1,
                        T, T, None, storm_id, None, None, None)  # fmt: skip


def test_the_first_pass_only_notes_what_is_waiting() -> None:
    assert stuck(None, [incident(1, S.OPEN), incident(2, S.DIAGNOSED)]) == []


def test_an_incident_in_the_same_state_as_last_pass_is_stuck() -> None:
    waiting = [incident(1, S.OPEN), incident(2, S.DIAGNOSED), incident(3, S.DIAGNOSED)]
    previous = {1: S.OPEN, 2: S.OPEN}  # 2 moved on since, 3 is new
    assert [i.id for i in stuck(previous, waiting)] == [1]


def test_a_storm_member_waiting_in_diagnosed_is_not_re_notified() -> None:
    assert stuck({1: S.DIAGNOSED}, [incident(1, S.DIAGNOSED, storm_id=9)]) == []


def test_open_incidents_go_to_capture_and_diagnosed_ones_to_notify() -> None:
    assert NEXT_TASK == {S.OPEN: "aeth.capture", S.DIAGNOSED: "aeth.notify"}

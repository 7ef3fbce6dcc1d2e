"""Repeats of a posted incident refresh its thread (count, last seen) a few times, never once per event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aetherius.store import Store
from collectors.storms import StormControl
from tasks.intake import Intake
from tasks.routing import ANALYZE, NOTIFY
from tests.scenario.test_pipeline_parts import crash_snapshot, detection

pytestmark = [pytest.mark.scenario]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_two_hundred_repeats_in_a_minute_enqueue_one_refresh_per_window(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    jobs: list[tuple[str, dict[str, Any]]] = []
    clock = Clock()
    intake = Intake(store, lambda task, kwargs: jobs.append((task, kwargs)), StormControl(1000, 60.0), clock=clock,
                    refresh_s=10.0)  # fmt: skip
    for n in range(200):
        clock.now = n * 0.3  # 200 sightings over 60 s
        intake.hand_over(detection(version=str(n)), crash_snapshot(), None)

    (incident,) = store.list_incidents()
    assert jobs[0] == (ANALYZE, {"incident_id": incident.id})
    refreshes = [kwargs for task, kwargs in jobs if task == NOTIFY]
    assert 5 <= len(refreshes) <= 7 and all(k == {"incident_id": incident.id} for k in refreshes)
    assert incident.occurrences == 200 and intake.counters.reconciles()

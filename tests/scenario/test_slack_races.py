"""Concurrent clicks on SQLite and PostgreSQL: an approval is handed over once, however many requests race.

Also: the periodic sweep expires approvals nobody decided and turns their buttons into a note.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aetherius.store import Store
from bot.deciding import expire_overdue
from bot.ports import APPROVED
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import SlackWorld, diagnosis, open_incident
from tests.scenario.test_pipeline_parts import store_at

pytestmark = [pytest.mark.scenario]
APPROVERS = {"prod/*": ["U_ANN", "U_BEN", "U_CAT", "U_DAN"]}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_at(request.param, tmp_path) as (opened, _):
        yield opened


@pytest.fixture
def world(store: Store) -> Iterator[SlackWorld]:
    with FakeSlack() as slack:
        world = SlackWorld(store, slack, approvers=APPROVERS)
        yield world
        world.close()


def test_eight_simultaneous_clicks_of_one_approver_hand_over_once(world: SlackWorld) -> None:
    incident = open_incident(world.store, diag=diagnosis(risk="low"))
    world.notify(incident)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: world.click("aeth_approve", f"{incident}:raise_memory_limit", user="U_ANN"), range(8))
        )
    world.settle()
    assert {a.status for a in answers} == {200}
    assert len(world.enqueue.named(APPROVED)) == 1
    kinds = [e.kind for e in world.store.audit_log(incident_id=incident)]
    assert kinds.count("approval.requested") == 1 and kinds.count("approval.approved") == 1


def test_three_approvers_racing_on_a_high_risk_action_hand_it_over_once(world: SlackWorld) -> None:
    incident = open_incident(world.store, diag=diagnosis(risk="high"))
    world.notify(incident)
    world.click("aeth_approve", f"{incident}:raise_memory_limit", user="U_ANN")  # the requester
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(
            pool.map(
                lambda u: world.click("aeth_approve", f"{incident}:raise_memory_limit", user=u),
                ["U_BEN", "U_CAT", "U_DAN"],
            )
        )
    world.settle()
    assert len(world.enqueue.named(APPROVED)) == 1  # never none (each saw the others missing), never two
    (decided,) = [e for e in world.store.audit_log(incident_id=incident) if e.kind == "approval.approved"]
    assert "U_ANN" not in decided.actor and len(set(decided.actor.split(","))) >= 2  # any two; never the requester


def test_the_sweep_expires_undecided_approvals_and_replaces_their_buttons(world: SlackWorld) -> None:
    incident = open_incident(world.store, diag=diagnosis(risk="high"))
    world.notify(incident)
    start = datetime.now(UTC)
    world.ctx.clock = lambda: start
    world.click("aeth_approve", f"{incident}:raise_memory_limit", user="U_ANN")
    assert expire_overdue(world.ctx) == 0  # not due yet
    world.ctx.clock = lambda: start + timedelta(minutes=31)
    assert expire_overdue(world.ctx) == 1
    assert expire_overdue(world.ctx) == 0  # once
    world.settle()
    edited = json.dumps(world.slack.calls("chat.update")[-1].params["blocks"])
    assert "expired at" in edited and "aeth_approve" not in edited.replace("aeth_wrong_cause", "")

"""Approve / Reject clicks through the signed Bolt app: the authorization table, end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from aetherius.incidents import IncidentState
from aetherius.store import Store
from bot.ports import APPROVED, DRY_RUN
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import CHANNEL, SlackWorld, diagnosis, open_incident

pytestmark = [pytest.mark.scenario]
ACTION = "raise_memory_limit"
APPROVERS = {"prod/shop": ["U_ANN", "U_BEN", "S_ONCALL"], "staging/*": ["U_EVE"]}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.set_group("S_ONCALL", ["U_CAT"])
        yield server


@pytest.fixture
def world(store: Store, slack: FakeSlack) -> Iterator[SlackWorld]:
    world = SlackWorld(store, slack, approvers=APPROVERS, approval_ttl_s=1800)
    yield world
    world.close()


def _posted(world: SlackWorld, risk: str) -> int:
    incident = open_incident(world.store, diag=diagnosis(risk=risk))
    world.notify(incident)
    world.settle()
    return incident


def _click(world: SlackWorld, incident: int, user: str, action: str = "aeth_approve") -> None:
    assert world.click(action, f"{incident}:{ACTION}", user=user).status == 200
    world.settle()


def _told(slack: FakeSlack, user: str) -> list[str]:
    return [c.params["text"] for c in slack.calls("chat.postEphemeral") if c.params["user"] == user]


def _decisions(store: Store, incident: int) -> list[str]:
    return [
        e.kind for e in store.audit_log(incident_id=incident) if e.kind.startswith("approval.") and "vote" not in e.kind
    ]


def test_an_approver_approves_a_low_risk_action_and_it_is_handed_over_once(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "low")
    _click(world, incident, "U_ANN")
    _click(world, incident, "U_ANN")  # double click
    body_again = world.click("aeth_approve", f"{incident}:{ACTION}", user="U_BEN")  # a late second approver
    assert body_again.status == 200
    assert world.enqueue.named(APPROVED) == [{"approval_id": "1", "incident_id": str(incident)}]
    assert _decisions(world.store, incident).count("approval.approved") == 1
    note = slack.posts(CHANNEL)[-1].params
    assert note["thread_ts"] == world.store.get_incident(incident).slack_ts
    assert "approved by <@U_ANN>" in note["text"] and "UTC" in note["text"]
    assert "already decided" in _told(slack, "U_ANN")[0] and "already decided" in _told(slack, "U_BEN")[0]
    assert "approved by" in json.dumps(slack.calls("chat.update")[-1].params["blocks"])  # buttons became a note


def test_someone_who_is_not_an_approver_changes_nothing(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "low")
    _click(world, incident, "U_EVE")  # approver of staging, not of prod/shop
    assert world.enqueue.named(APPROVED) == []
    assert "not an approver" in _told(slack, "U_EVE")[0]
    assert "approval.approved" not in _decisions(world.store, incident)


def test_a_member_of_an_approver_user_group_may_approve(world: SlackWorld) -> None:
    incident = _posted(world, "medium")
    _click(world, incident, "U_CAT")
    assert len(world.enqueue.named(APPROVED)) == 1


def test_high_risk_refuses_self_approval_and_needs_two_distinct_approvers(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "high")
    _click(world, incident, "U_ANN")  # requests it: cannot approve it too
    assert "two other approvers" in _told(slack, "U_ANN")[0]
    _click(world, incident, "U_BEN")
    _click(world, incident, "U_BEN")  # the same person twice is still one approval
    assert world.enqueue.named(APPROVED) == []
    assert "1 of 2" in slack.posts(CHANNEL)[-1].params["text"]
    _click(world, incident, "U_CAT")
    assert len(world.enqueue.named(APPROVED)) == 1
    assert "approved by <@U_BEN>, <@U_CAT>" in slack.posts(CHANNEL)[-1].params["text"]
    _click(world, incident, "U_ANN")
    assert len(world.enqueue.named(APPROVED)) == 1


def test_an_expired_approval_is_refused_and_its_buttons_become_a_note(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "high")
    start = datetime.now(UTC)
    world.ctx.clock = lambda: start
    _click(world, incident, "U_ANN")
    world.ctx.clock = lambda: start + timedelta(minutes=31)
    _click(world, incident, "U_BEN")
    assert "expired" in _told(slack, "U_BEN")[0]
    assert world.enqueue.named(APPROVED) == []
    assert "approval.expired" in _decisions(world.store, incident)
    details = slack.calls("chat.update")[-1].params["blocks"]
    assert "expired at" in json.dumps(details) and all(
        b["type"] != "actions" or len(b["elements"]) == 1 for b in details
    )


def test_a_rejection_is_final_and_posted_in_the_thread(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "low")
    _click(world, incident, "U_BEN", "aeth_reject")
    _click(world, incident, "U_ANN")
    assert world.enqueue.named(APPROVED) == []
    assert "rejected by <@U_BEN>" in slack.posts(CHANNEL)[-1].params["text"]
    assert "already decided" in _told(slack, "U_ANN")[0]


def test_a_button_on_a_resolved_incident_is_stale_and_approves_nothing(world: SlackWorld, slack: FakeSlack) -> None:
    incident = _posted(world, "low")
    world.store.transition(incident, IncidentState.RESOLVED, actor="collector")
    _click(world, incident, "U_ANN")
    assert world.enqueue.named(APPROVED) == []
    assert "stale" in _told(slack, "U_ANN")[0]


def test_dry_run_is_handed_over_by_id(world: SlackWorld) -> None:
    incident = _posted(world, "high")
    _click(world, incident, "U_EVE", "aeth_dry_run")
    assert world.enqueue.named(DRY_RUN) == [{"incident_id": str(incident), "action": ACTION, "user": "U_EVE"}]

"""👍/👎 reactions and "Wrong cause?" corrections: into the store, then into a real Chroma case store (MiniLM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aetherius.cases import Case
from aetherius.settings import Settings
from aetherius.store import Store
from bot.learning import learn_from_feedback
from bot.ports import LEARN
from bot.views import PICK_ACTION, PICK_BLOCK
from knowledge.casestore import CaseStore
from knowledge.embedding import Embedder
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import SlackWorld, open_incident

pytestmark = [pytest.mark.scenario]


@pytest.fixture
def cases(tmp_path: Path, embedder: Embedder) -> CaseStore:
    return CaseStore.open(Settings(data_dir=tmp_path / "chroma-home"), embedder)


@pytest.fixture
def world(store: Store, slack: FakeSlack, cases: CaseStore) -> Iterator[SlackWorld]:
    world = SlackWorld(store, slack)
    # the in-process runner of the LEARN task: the same function a worker runs, against the real case store
    world.enqueue.handlers[LEARN] = lambda incident_id: learn_from_feedback(
        store, cases.add, lambda case_id: cases.delete(case_id, source="slack"), int(incident_id)
    )
    yield world
    world.close()


def _thread(world: SlackWorld) -> tuple[int, str]:
    incident = open_incident(world.store)
    world.notify(incident)
    world.settle()
    ts = world.store.get_incident(incident).slack_ts
    assert ts
    return incident, ts


@pytest.mark.parametrize("name", ["+1", "thumbsup", "+1::skin-tone-3", "thumbsup::skin-tone-6"])
def test_a_thumbs_up_in_any_spelling_confirms_the_diagnosis_into_the_case_store(
    world: SlackWorld, cases: CaseStore, name: str
) -> None:
    incident, ts = _thread(world)
    world.reaction(name, user="U_ANN", ts=ts)
    (vote,) = world.store.feedback(incident)
    assert (vote.user, vote.kind) == ("U_ANN", "thumbs_up")
    case = cases.get(f"incident-{incident}")
    assert case is not None and case.category == "oom_killed" and case.source == "slack"
    assert "hunter2" not in case.signature
    assert cases.search("OOMKilled exit 137 memory limit reached", k=1)[0].id == f"incident-{incident}"


def test_reactions_count_once_per_user_and_their_removal_takes_the_vote_back(world: SlackWorld) -> None:
    incident, ts = _thread(world)
    world.reaction("+1", user="U_ANN", ts=ts)
    world.reaction("+1::skin-tone-2", user="U_ANN", ts=ts)  # same vote, another skin tone
    world.reaction("-1", user="U_BEN", ts=ts)
    world.reaction("thumbsdown::skin-tone-5", user="U_BEN", ts=ts)
    world.reaction("tada", user="U_CAT", ts=ts)  # not feedback
    assert sorted((f.user, f.kind) for f in world.store.feedback(incident)) == [
        ("U_ANN", "thumbs_up"),
        ("U_BEN", "thumbs_down"),
    ]
    world.reaction("thumbsdown", user="U_BEN", ts=ts, added=False)
    world.reaction("thumbsdown", user="U_BEN", ts=ts, added=False)  # removing twice is harmless
    assert [(f.user, f.kind) for f in world.store.feedback(incident)] == [("U_ANN", "thumbs_up")]
    assert len(world.enqueue.named(LEARN)) == 3  # two votes added, one taken back: duplicates enqueue nothing


def test_taking_the_only_thumbs_up_back_removes_the_learned_case_and_another_vote_keeps_it(
    world: SlackWorld, cases: CaseStore
) -> None:
    incident, ts = _thread(world)
    world.reaction("+1", user="U_ANN", ts=ts)
    world.reaction("+1", user="U_BEN", ts=ts)
    world.reaction("+1", user="U_ANN", ts=ts, added=False)
    assert cases.get(f"incident-{incident}") is not None  # Ben's vote still confirms it
    world.reaction("+1", user="U_BEN", ts=ts, added=False)
    assert cases.get(f"incident-{incident}") is None
    world.reaction("-1", user="U_CAT", ts=ts)  # a thumbs down alone teaches nothing and removes nothing else
    assert cases.get(f"incident-{incident}") is None and cases.count() == 0


def test_only_cases_learned_from_slack_are_ever_removed(cases: CaseStore) -> None:
    mine = Case(
        id="incident-7",
        title="hand-written",
        category="network",
        signature="dns lookup failed",
        root_cause="x",
        fix="y",
        source="local",
    )
    cases.add(mine)
    assert cases.delete("incident-7", source="slack") is False and cases.get("incident-7") == mine
    assert cases.delete("incident-7") is True and cases.get("incident-7") is None
    assert cases.delete("incident-7") is False


def test_a_reaction_on_a_message_that_is_no_incident_is_ignored(world: SlackWorld) -> None:
    world.reaction("+1", user="U_ANN", ts="1699999999.000001")
    assert world.enqueue.jobs == []


def test_a_wrong_cause_correction_lands_in_the_store_and_relabels_the_case(
    world: SlackWorld, slack: FakeSlack, cases: CaseStore
) -> None:
    incident, ts = _thread(world)
    world.reaction("+1", user="U_ANN", ts=ts)
    assert world.click("aeth_wrong_cause", f"{incident}:oom_killed", user="U_BEN").status == 200
    (opened,) = slack.calls("views.open")
    view = opened.params["view"]
    if isinstance(view, str):
        view = json.loads(view)
    options = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert "oom_killed" not in options and "config_error" in options
    view["state"] = {"values": {PICK_BLOCK: {PICK_ACTION: {"selected_option": {"value": "config_error"}}}}}
    assert world.submit_view(view, user="U_BEN").status == 200
    world.settle()
    assert [(f.user, f.kind, f.category) for f in world.store.feedback(incident) if f.kind == "correction"] == [
        ("U_BEN", "correction", "config_error")
    ]
    case = cases.get(f"incident-{incident}")
    assert case is not None and case.category == "config_error"
    assert "corrected the cause to *config_error*" in slack.posts()[-1].params["text"]


def test_a_correction_to_something_outside_the_taxonomy_is_refused_in_the_modal(world: SlackWorld) -> None:
    incident, _ = _thread(world)
    view = {
        "type": "modal",
        "callback_id": "aeth_wrong_cause_view",
        "private_metadata": str(incident),
        "state": {"values": {PICK_BLOCK: {PICK_ACTION: {"selected_option": {"value": "gremlins"}}}}},
    }
    response = world.submit_view(view, user="U_BEN")
    assert json.loads(response.body)["response_action"] == "errors"
    assert world.store.feedback(incident) == []


def test_similar_by_incident_id_and_by_text_answers_the_asker_from_the_case_store(
    world: SlackWorld, slack: FakeSlack, cases: CaseStore
) -> None:
    from bot.answering import answer_similar
    from knowledge.caselib import load_seed_cases

    cases.ensure_indexed(load_seed_cases())
    incident, _ = _thread(world)
    job = {"channel": "C1", "user": "U_ANN", "response_url": ""}
    assert answer_similar(cases.search, world.store, world.client, {**job, "query": f"#{incident}"}) == "5 cases"
    assert answer_similar(
        cases.search, world.store, world.client, {**job, "query": "ImagePullBackOff manifest unknown"}
    )
    by_id, by_text = [c.params["text"] for c in slack.calls("chat.postEphemeral")]
    assert "(oom_killed)" in by_id.splitlines()[1]
    assert "(image_pull)" in by_text.splitlines()[1]

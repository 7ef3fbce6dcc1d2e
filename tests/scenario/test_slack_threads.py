"""Incident threads against the fake Slack Web API: one parent per incident, edits not reposts, paced storms."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from aetherius.errors import StoreUnavailable
from aetherius.incidents import IncidentState
from aetherius.store import Store
from bot.notifier import DETAILS, DIGESTED
from bot.pacing import MemoryPacer, RedisPacer
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import CHANNEL, SlackWorld, open_incident

pytestmark = [pytest.mark.scenario]
DIGEST_LINE = re.compile(r"^• #(\d+) \[", re.MULTILINE)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def worlds(store: Store, slack: FakeSlack) -> Iterator[list[SlackWorld]]:
    made: list[SlackWorld] = []
    yield made
    for world in made:
        world.close()


def _world(worlds: list[SlackWorld], store: Store, slack: FakeSlack, **kwargs: object) -> SlackWorld:
    world = SlackWorld(store, slack, **kwargs)  # type: ignore[arg-type]
    worlds.append(world)
    return world


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/aetherius.db")
    yield opened
    opened.close()


def _occur(store: Store, n: int, k: int) -> None:
    store.record_occurrence(
        fingerprint=f"fp-prod-shop-{n}", cluster="prod", namespace="shop", workload=f"Deployment/api-{n}",
        family="oom_killed", source="pod_state", reason="OOMKilled", message="OOMKilled again",
        dedup_key=f"d-{n}-{k}", seen_at=datetime.now(UTC),
    )  # fmt: skip


def test_two_hundred_occurrences_make_one_parent_message_that_is_edited(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    world = _world(worlds, store, slack, pacer=MemoryPacer(0.2))
    incident = open_incident(store, 1)
    assert world.notify(incident).startswith("posted")
    for k in range(1, 200):
        _occur(store, 1, k)
        assert world.notify(incident).startswith("updated")
    world.settle()

    parents = [c for c in slack.posts() if not c.params.get("thread_ts")]
    replies = [c for c in slack.posts() if c.params.get("thread_ts")]
    updates = slack.calls("chat.update")
    assert len(parents) == 1 and len(replies) == 1
    assert 1 <= len(updates) < 100  # queued edits of one message are coalesced into the newest
    assert {u.params["ts"] for u in updates} == {store.get_incident(incident).slack_ts}
    assert "*occurrences*\n200" in json.dumps(updates[-1].params["blocks"]).replace("\\n", "\n")
    assert store.get_incident(incident).state == IncidentState.NOTIFIED


def test_a_storm_of_300_incidents_in_3_channels_keeps_one_post_per_second_and_loses_none(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    routes = {f"prod/ns-{i}/*": f"C_TEAM{i}" for i in range(3)}
    pacer = RedisPacer(client, 1.0, prefix=f"aeth:test:{uuid.uuid4().hex}:")
    world = _world(worlds, store, slack, pacer=pacer, routes=routes)
    ids = [open_incident(store, n, namespace=f"ns-{n % 3}") for n in range(300)]
    done = [world.notify(i) for i in ids[:3]]  # a quiet start: one incident per channel, each its own thread
    with ThreadPoolExecutor(max_workers=64) as workers:  # then the storm: 64 notify tasks at a time
        done += list(workers.map(world.notify, ids[3:]))
    world.settle()

    assert all(result.startswith("posted") for result in done)
    mentioned: set[int] = set()
    for i in range(3):
        posts = slack.posts(f"C_TEAM{i}")
        gaps = [b.at - a.at for a, b in zip(posts, posts[1:], strict=False)]
        assert gaps and min(gaps) >= 0.995, gaps  # 1/s per channel as Slack receives them (Redis expiry is in ms)
        texts = [
            b["text"]["text"] for post in posts for b in post.params["blocks"] if b["type"] == "section" and "text" in b
        ]
        mentioned |= {int(m) for text in texts for m in DIGEST_LINE.findall(text)}
    folded = [i for i in ids if any(e.kind == DIGESTED for e in store.audit_log(incident_id=i))]
    threaded = [i for i in ids if any(e.kind == "notification.sent" and e.detail["kind"] == DETAILS
                                      for e in store.audit_log(incident_id=i))]  # fmt: skip
    assert len(folded) > 200 and len(threaded) >= 3  # the quiet start in threads, the burst in digests
    assert set(folded) == mentioned and set(folded) | set(threaded) == set(ids)
    assert all(store.get_incident(i).state == IncidentState.NOTIFIED for i in ids)
    print(f"posts per channel {[len(slack.posts(f'C_TEAM{i}')) for i in range(3)]}, folded {len(folded)}")


def test_a_429_is_honoured_with_its_retry_after_and_the_message_is_posted_once(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    world = _world(worlds, store, slack, pacer=MemoryPacer(0.0))
    slack.throttle("chat.postMessage", 1, retry_after=1)
    world.notify(open_incident(store))
    world.settle()
    refused, accepted, details = slack.posts(CHANNEL)
    assert accepted.at - refused.at >= 0.95
    assert accepted.params["blocks"] == refused.params["blocks"] and details.params["thread_ts"]
    assert world.outbox.failed == 0


def test_resolution_edits_the_parent_and_replies_in_the_thread(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    world = _world(worlds, store, slack)
    incident = open_incident(store)
    world.notify(incident)
    store.transition(incident, IncidentState.RESOLVED, actor="collector", reason="pod Ready for 10 minutes")
    assert world.notify(incident).startswith("marked")
    world.settle()
    (update,) = slack.calls("chat.update")
    assert "Resolved" in json.dumps(update.params["blocks"])
    last = slack.posts(CHANNEL)[-1]
    assert last.params["thread_ts"] == store.get_incident(incident).slack_ts
    assert last.params["text"].startswith("Resolved at") and "pod Ready for 10 minutes" in last.params["text"]


def test_secrets_in_evidence_never_reach_slack(store: Store, slack: FakeSlack, worlds: list[SlackWorld]) -> None:
    world = _world(worlds, store, slack)
    world.notify(open_incident(store))
    world.settle()
    sent = json.dumps([c.params for c in slack.calls()])
    assert "OOMKilled exit 137" in sent
    assert "hunter2" not in sent


def test_the_thread_holds_evidence_and_buttons_for_each_recommendation(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    world = _world(worlds, store, slack)
    incident = open_incident(store)
    world.notify(incident)
    world.settle()
    parent, details = slack.posts(CHANNEL)
    header = parent.params["blocks"][0]["text"]["text"]
    assert header.startswith("Out of memory") and "*category*\\noom_killed (91%)" in json.dumps(parent.params)
    assert "Evidence" in json.dumps(details.params["blocks"])
    buttons = [e for b in details.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["aeth_approve", "aeth_dry_run", "aeth_reject", "aeth_wrong_cause"]
    assert buttons[0]["value"] == f"{incident}:raise_memory_limit"


def test_aeth_diagnose_answers_with_the_full_diagnosis_in_a_thread_of_the_askers_channel(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    from bot.answering import answer_diagnosis
    from tests.fakes.slack_world import diagnosis

    world = _world(worlds, store, slack)
    job = {"channel": "C_ASKER", "user": "U_ANN", "pod": "api-7f9", "namespace": "shop", "cluster": "prod"}
    posted = answer_diagnosis(world.notifier, diagnosis(), job)
    parent, details = slack.posts("C_ASKER")
    assert parent.params["blocks"][0]["text"]["text"] == "Out of memory: api-7f9"
    assert details.params["thread_ts"] == posted.ts
    assert "Asked by <@U_ANN>" in json.dumps(parent.params["blocks"])
    assert "Raise the memory limit" in json.dumps(details.params["blocks"])


def test_long_evidence_is_truncated_in_blocks_and_uploaded_whole_as_a_file_in_the_thread(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld]
) -> None:
    from aetherius.diagnoses import Diagnosis

    evidence = [f"log line {i}: upstream timed out after 30s token=sk-live-abcdef0123456789" for i in range(400)]
    long = Diagnosis(category="network", confidence=0.7, summary="upstream timeouts", evidence=evidence)
    world = _world(worlds, store, slack)
    incident = open_incident(store, diag=long)
    world.notify(incident)
    world.settle()
    parent, details = slack.posts(CHANNEL)
    sections = [b["text"]["text"] for b in details.params["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in sections) and "full report in the thread file" in sections[0]
    (upload,) = slack.calls("files.completeUploadExternal")
    assert upload.params["thread_ts"] == store.get_incident(incident).slack_ts
    (content,) = slack.state.uploads.values()
    assert content.decode().count("upstream timed out") == 400
    assert b"sk-live-abcdef0123456789" not in content


def _failing_root_record(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses the record of the first parent Slack accepted (or the worker died right there)."""
    real = store.record_notification
    failures = [StoreUnavailable("database went away")]

    def record(incident_id: int, **kwargs: Any) -> int:
        if kwargs.get("kind") == "root" and failures:
            raise failures.pop()
        return real(incident_id, **kwargs)

    monkeypatch.setattr(store, "record_notification", record)


def test_a_parent_posted_but_not_recorded_is_found_in_history_and_adopted_not_posted_twice(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(worlds, store, slack)
    incident = open_incident(store, 1)
    _failing_root_record(store, monkeypatch)
    with pytest.raises(StoreUnavailable):
        world.notify(incident)  # Slack has the parent; we do not know its ts
    assert slack.calls("conversations.history") == []  # a first attempt never reads history
    world.settle()

    assert world.notify(incident).startswith("posted")  # the task's retry
    world.settle()
    parents = [c for c in slack.posts() if not c.params.get("thread_ts")]
    assert len(parents) == 1
    [history] = slack.calls("conversations.history")
    assert history.params["channel"] == CHANNEL
    recorded = store.get_incident(incident)
    assert recorded.slack_ts == slack.state.messages[CHANNEL][0]["ts"] and recorded.state == IncidentState.NOTIFIED
    assert [e.kind for e in store.audit_log(incident_id=incident) if e.kind.startswith("slack.root")] == [
        "slack.root_adopted",
        "slack.root_attempt",
    ]
    details = [c for c in slack.posts() if c.params.get("thread_ts") == recorded.slack_ts]
    assert len(details) == 1  # posted once, by the first attempt's callback
    assert store.sent_message(incident, DETAILS) is not None


def test_a_parent_of_another_incident_or_another_install_is_never_adopted(
    store: Store, slack: FakeSlack, worlds: list[SlackWorld], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(worlds, store, slack)
    first, second = open_incident(store, 1), open_incident(store, 2)
    world.notify(first)
    incident = store.get_incident(second)
    other_install = {"event_type": "aetherius_incident", "event_payload": {"incident_id": second, "fingerprint": "x"}}
    world.client.chat_postMessage(channel=CHANNEL, text="another install's incident", metadata=other_install)
    store.audit(actor="notifier", kind="slack.root_attempt", detail={"channel": CHANNEL, "at": 0}, incident_id=second)
    assert world.notify(second).startswith("posted")
    world.settle()
    assert store.get_incident(second).slack_ts not in (store.get_incident(first).slack_ts, None)
    assert incident.fingerprint != "x"


def test_without_the_history_scope_a_retry_posts_again_and_says_why(
    store: Store,
    slack: FakeSlack,
    worlds: list[SlackWorld],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = _world(worlds, store, slack)
    slack.deny_scope("conversations.history")
    incident = open_incident(store, 1)
    _failing_root_record(store, monkeypatch)
    with pytest.raises(StoreUnavailable):
        world.notify(incident)
    with caplog.at_level(logging.WARNING, logger="aetherius.slack"):
        assert world.notify(incident).startswith("posted")
    world.settle()
    assert len([c for c in slack.posts() if not c.params.get("thread_ts")]) == 2
    assert "needs channels:history" in caplog.text and "missing_scope" in caplog.text

"""Incident threads against the fake Slack Web API: one parent per incident, edits not reposts, paced storms."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from aetherius.incidents import IncidentState
from aetherius.store import Store
from bot.outbox import Sent
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


def test_two_hundred_occurrences_make_one_parent_message_that_is_edited(store: Store, slack: FakeSlack) -> None:
    world = SlackWorld(store, slack)
    incident = open_incident(store, 1)
    world.notifier.notify_incident(incident)
    world.outbox.drain()
    for k in range(1, 200):
        _occur(store, 1, k)
        world.notifier.notify_incident(incident)
        if k % 20 == 0:
            world.outbox.drain()
    world.outbox.drain()

    parents = [c for c in slack.posts() if not c.params.get("thread_ts")]
    replies = [c for c in slack.posts() if c.params.get("thread_ts")]
    updates = slack.calls("chat.update")
    assert len(parents) == 1 and len(replies) == 1
    assert 1 <= len(updates) <= 10  # pending edits of one message are coalesced: one per drain at most
    assert {u.params["ts"] for u in updates} == {store.get_incident(incident).slack_ts}
    assert "*occurrences*\n200" in json.dumps(updates[-1].params["blocks"]).replace("\\n", "\n")
    assert store.get_incident(incident).state == IncidentState.NOTIFIED


def test_a_storm_of_300_incidents_in_3_channels_keeps_one_post_per_second_and_loses_none(
    store: Store, slack: FakeSlack
) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    routes = {f"prod/ns-{i}/*": f"C_TEAM{i}" for i in range(3)}
    pacer = RedisPacer(client, 1.0, prefix=f"aeth:test:{uuid.uuid4().hex}:")
    world = SlackWorld(store, slack, pacer=pacer, routes=routes)
    ids = [open_incident(store, n, namespace=f"ns-{n % 3}") for n in range(300)]
    world.outbox.start()
    futures: list[Future[Sent]] = []
    for wave in (ids[:3], ids[3:150], ids[150:]):  # a first few, then the storm in two bursts
        futures += [world.notifier.notify_incident(i) for i in wave]
        time.sleep(0.7)
    results = [f.result(timeout=60) for f in futures]
    while world.outbox.pending():
        time.sleep(0.05)
    world.outbox.stop()

    mentioned: set[int] = set()
    for i in range(3):
        posts = slack.posts(f"C_TEAM{i}")
        gaps = [b.at - a.at for a, b in zip(posts, posts[1:], strict=False)]
        assert gaps and min(gaps) >= 0.9, gaps  # 1/s per channel (0.1 s for the HTTP hop between slot and arrival)
        assert len(posts) < 10
        texts = [
            b["text"]["text"] for post in posts for b in post.params["blocks"] if b["type"] == "section" and "text" in b
        ]
        mentioned |= {int(m) for text in texts for m in DIGEST_LINE.findall(text)}
    folded = [i for i, r in zip(ids, results, strict=True) if r.folded]
    threads = [i for i, r in zip(ids, results, strict=True) if not r.folded]
    assert len(folded) > 250 and threads  # a few threads, the rest in digests
    assert set(folded) <= mentioned
    print(f"posts per channel: {[len(slack.posts(f'C_TEAM{i}')) for i in range(3)]}, folded {len(folded)}")
    assert all(store.get_incident(i).slack_ts for i in threads)
    assert all(store.get_incident(i).state == IncidentState.NOTIFIED for i in ids)


def test_a_429_is_honoured_with_its_retry_after_and_the_message_is_posted_once(store: Store, slack: FakeSlack) -> None:
    world = SlackWorld(store, slack, pacer=MemoryPacer(0.0))
    slack.throttle("chat.postMessage", 1, retry_after=1)
    incident = open_incident(store)
    world.notifier.notify_incident(incident)
    world.outbox.drain(timeout_s=30)
    refused, accepted, details = slack.posts(CHANNEL)
    assert accepted.at - refused.at >= 0.95
    assert accepted.params["blocks"] == refused.params["blocks"] and details.params["thread_ts"]
    assert world.outbox.failed == 0


def test_resolution_edits_the_parent_and_replies_in_the_thread(store: Store, slack: FakeSlack) -> None:
    world = SlackWorld(store, slack)
    incident = open_incident(store)
    world.notifier.notify_incident(incident)
    world.outbox.drain()
    store.transition(incident, IncidentState.RESOLVED, actor="collector")
    world.notifier.notify_resolved(incident, "The pod has been Ready for 10 minutes.")
    world.outbox.drain()
    (update,) = slack.calls("chat.update")
    assert "Resolved" in json.dumps(update.params["blocks"])
    last = slack.posts(CHANNEL)[-1]
    assert last.params["thread_ts"] == store.get_incident(incident).slack_ts
    assert last.params["text"].startswith("Resolved at")


def test_secrets_in_evidence_never_reach_slack(store: Store, slack: FakeSlack) -> None:
    world = SlackWorld(store, slack)
    world.notifier.notify_incident(open_incident(store))
    world.outbox.drain()
    sent = json.dumps([c.params for c in slack.calls()])
    assert "OOMKilled exit 137" in sent
    assert "hunter2" not in sent


def test_the_thread_holds_evidence_similar_cases_and_buttons_for_each_recommendation(
    store: Store, slack: FakeSlack
) -> None:
    world = SlackWorld(store, slack)
    incident = open_incident(store)
    world.notifier.notify_incident(incident)
    world.outbox.drain()
    parent, details = slack.posts(CHANNEL)
    header = parent.params["blocks"][0]["text"]["text"]
    assert header.startswith("Out of memory") and "*category*\\noom_killed (91%)" in json.dumps(parent.params)
    buttons = [e for b in details.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["aeth_approve", "aeth_dry_run", "aeth_reject", "aeth_wrong_cause"]
    assert buttons[0]["value"] == f"{incident}:raise_memory_limit"

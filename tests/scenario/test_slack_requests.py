"""Signed Slack requests into the real Bolt app: verification, retries, /aeth commands, App Home."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from aetherius.store import Store
from bot.ports import DIAGNOSE_POD, READ_CLUSTER, SIMILAR
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_world import CHANNEL, SlackWorld, open_incident, sign

pytestmark = [pytest.mark.scenario]


@pytest.fixture
def world(store: Store, slack: FakeSlack) -> Iterator[SlackWorld]:
    world = SlackWorld(store, slack, readonly={CHANNEL: ["shop", "team-*"]}, default_cluster="prod")
    yield world
    world.close()


def test_a_forged_signature_is_rejected_and_nothing_is_enqueued(world: SlackWorld) -> None:
    body = "command=%2Faeth&text=diagnose+pod%2Fapi-1+-n+shop&user_id=U1&channel_id=C1"
    headers = {"content-type": "application/x-www-form-urlencoded", **sign(body, secret="not-the-secret")}
    response = world.dispatch(body, headers)
    assert response.status == 401
    assert world.enqueue.jobs == []


def test_a_signature_older_than_five_minutes_is_rejected_even_when_correct(world: SlackWorld) -> None:
    body = "command=%2Faeth&text=diagnose+pod%2Fapi-1+-n+shop&user_id=U1&channel_id=C1"
    headers = {"content-type": "application/x-www-form-urlencoded", **sign(body, timestamp=int(time.time()) - 301)}
    assert world.dispatch(body, headers).status == 401
    assert world.enqueue.jobs == []


def test_a_body_changed_after_signing_is_rejected(world: SlackWorld) -> None:
    body = "command=%2Faeth&text=help&user_id=U1&channel_id=C1"
    headers = {"content-type": "application/x-www-form-urlencoded", **sign(body)}
    assert world.dispatch(body.replace("help", "incidents"), headers).status == 401


def test_a_retried_event_has_no_second_effect(world: SlackWorld, store: Store) -> None:
    incident = open_incident(store)
    store.record_notification(incident, channel=CHANNEL, kind="root", payload={}, message_ts="1700000000.000001")
    first = world.reaction("+1", user="U_BOB", ts="1700000000.000001", event_id="Ev42")
    store.remove_feedback(incident, user="U_BOB", kind="thumbs_up")  # if the retry were applied, it would come back
    retried = world.reaction("+1", user="U_BOB", ts="1700000000.000001", event_id="Ev42", **{"x-slack-retry-num": "1"})
    assert first.status == retried.status == 200
    assert store.feedback(incident) == []
    assert len(world.enqueue.named("aeth.learn_from_feedback")) == 1


def test_diagnose_acks_at_once_and_enqueues_ids_only(world: SlackWorld) -> None:
    response = world.command("diagnose pod/api-7f9 -n shop --cluster eu-1", user="U_ALICE")
    assert response.status == 200
    assert "Diagnosing pod/api-7f9 in eu-1/shop" in json.loads(response.body)["text"]
    (job,) = world.enqueue.named(DIAGNOSE_POD)
    assert job["pod"] == "api-7f9" and job["namespace"] == "shop" and job["cluster"] == "eu-1"
    assert job["user"] == "U_ALICE" and job["channel"] == CHANNEL
    assert all(isinstance(v, str) for v in job.values())


@pytest.mark.parametrize(
    "text",
    ["frobnicate", "diagnose api -n shop", "diagnose pod/api", "logs pod/api -n shop --tail lots", "incidents now",
     "logs pod/API_BAD -n shop", "diagnose pod/x -n shop --cluster", 'similar "unbalanced'],
)  # fmt: skip
def test_unknown_or_malformed_input_gets_the_short_usage_and_enqueues_nothing(world: SlackWorld, text: str) -> None:
    response = world.command(text)
    answer = json.loads(response.body)["text"]
    assert response.status == 200
    assert "*Usage:*" in answer and len(answer.splitlines()) < 12
    assert world.enqueue.jobs == []


def test_read_only_commands_run_only_where_settings_allow_them(world: SlackWorld) -> None:
    allowed = world.command("logs pod/api-1 -n team-a --previous --tail 50")
    refused = world.command("describe pod/api-1 -n kube-system")
    elsewhere = world.command("top pods -n shop", channel="C_RANDOM")
    assert "Reading `logs pod/api-1`" in json.loads(allowed.body)["text"]
    assert "not allowed" in json.loads(refused.body)["text"]
    assert "not allowed" in json.loads(elsewhere.body)["text"]
    (job,) = world.enqueue.named(READ_CLUSTER)
    assert job | {"response_url": ""} == {
        "verb": "logs", "pod": "api-1", "namespace": "team-a", "cluster": "prod", "previous": "1", "tail": "50",
        "channel": CHANNEL, "user": "U_ALICE", "response_url": "",
    }  # fmt: skip


def test_incidents_lists_open_ones_newest_first_and_similar_is_enqueued(world: SlackWorld, store: Store) -> None:
    first, second = open_incident(store, 1), open_incident(store, 2)
    text = json.loads(world.command("incidents").body)["text"]
    assert text.index(f"#{second}") < text.index(f"#{first}")
    world.command("similar OOMKilled exit 137 in a JVM")
    assert world.enqueue.named(SIMILAR)[0]["query"] == "OOMKilled exit 137 in a JVM"


def test_status_and_stats_answer_from_the_store(world: SlackWorld, store: Store) -> None:
    incident = open_incident(store)
    store.add_feedback(incident, user="U1", kind="thumbs_up")
    store.add_feedback(incident, user="U2", kind="thumbs_down")
    from datetime import UTC, datetime

    store.upsert_cluster_heartbeat("prod", datetime.now(UTC), "collector-0")
    assert "50% of diagnoses confirmed" in json.loads(world.command("stats").body)["text"]
    status = json.loads(world.command("status").body)["text"]
    assert "prod" in status and "queue depth: 0" in status


def test_app_home_shows_open_incidents_by_cluster_resolutions_and_confirmation_rate(
    world: SlackWorld, store: Store, slack: FakeSlack
) -> None:
    from aetherius.incidents import IncidentState

    open_incident(store, 1, cluster="eu-1")
    gone = open_incident(store, 2, cluster="us-2")
    store.transition(gone, IncidentState.RESOLVED, actor="test")
    store.add_feedback(gone, user="U1", kind="thumbs_up")
    world.event({"type": "app_home_opened", "user": "U_ALICE", "tab": "home", "channel": "D1"})
    (call,) = slack.calls("views.publish")
    assert call.params["user_id"] == "U_ALICE"
    text = json.dumps(call.params["view"])
    assert "eu-1" in text and "Recently resolved" in text and "100% of diagnoses confirmed" in text


def test_no_token_or_signing_secret_reaches_the_logs_even_at_debug_level(
    world: SlackWorld, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from tests.fakes.slack_world import SECRET

    caplog.set_level(logging.DEBUG)
    incident = open_incident(store)
    world.notify(incident)
    world.command("incidents")
    world.click("aeth_approve", f"{incident}:raise_memory_limit", user="U_NOBODY")
    world.settle()
    assert caplog.records  # slack_sdk and Bolt did log the requests
    assert "xoxb-test" not in caplog.text and SECRET not in caplog.text


def test_a_replayed_slash_command_within_the_signature_window_enqueues_once(world: SlackWorld) -> None:
    from urllib.parse import urlencode

    form = {"command": "/aeth", "text": "diagnose pod/api-1 -n shop", "user_id": "U1", "channel_id": CHANNEL,
            "team_id": "T1", "trigger_id": "1234.5678.abcd"}  # fmt: skip
    body = urlencode(form)
    headers = {"content-type": "application/x-www-form-urlencoded", **sign(body)}
    assert world.dispatch(body, headers).status == 200
    assert world.dispatch(body, headers).status == 200
    assert len(world.enqueue.named(DIAGNOSE_POD)) == 1

"""A Slack world for scenario tests: the real Bolt app, signed requests as Slack sends them, a store, incidents.

`SlackWorld.send_*` builds the raw body Slack would send (form-encoded commands and interactions, JSON events),
signs it the way Slack does (``v0:{timestamp}:{body}`` HMAC-SHA256 with the signing secret) and dispatches it
through ``App.dispatch`` with request verification on. Outbound Web API calls go to `tests.fakes.slack.FakeSlack`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from aetherius.diagnoses import Diagnosis, Recommendation
from aetherius.snapshots import Snapshot
from aetherius.store import Store
from bot.app import build_app
from bot.context import BotContext
from bot.dedupe import MemorySeen, Seen
from bot.notifier import SlackNotifier
from bot.outbox import Outbox
from bot.pacing import MemoryPacer, Pacer
from tasks.stages import Pipeline, notify
from tests.fakes.slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C_INCIDENTS"


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


@dataclass
class Recorder:
    """The `Enqueue` port of tests: records jobs, and runs the ones it was given a handler for."""

    jobs: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    handlers: dict[str, Any] = field(default_factory=dict)

    def __call__(self, task: str, kwargs: dict[str, str]) -> None:
        self.jobs.append((task, dict(kwargs)))
        if task in self.handlers:
            self.handlers[task](**kwargs)

    def named(self, task: str) -> list[dict[str, str]]:
        return [kwargs for name, kwargs in self.jobs if name == task]


def diagnosis(category: str = "oom_killed", risk: str = "low", summary: str = "memory limit reached") -> Diagnosis:
    return Diagnosis.model_validate(
        {
            "category": category,
            "confidence": 0.91,
            "summary": summary,
            "evidence": ["OOMKilled exit 137 (limit 256Mi)", "password=hunter2 in env dump"],
            "recommendations": [
                Recommendation(action="raise_memory_limit", title="Raise the memory limit", risk=risk, confidence=0.8)
            ],
        }
    )


def open_incident(
    store: Store, n: int = 1, *, cluster: str = "prod", namespace: str = "shop", diag: Diagnosis | None = None
) -> int:
    """An incident with a saved diagnosis (``diagnosed``), as the analyze task leaves it."""
    now = datetime.now(UTC)
    recorded = store.record_occurrence(
        fingerprint=f"fp-{cluster}-{namespace}-{n}",
        cluster=cluster,
        namespace=namespace,
        workload=f"Deployment/api-{n}",
        family="oom_killed",
        source="pod_state",
        reason="OOMKilled",
        message="container api was OOMKilled",
        dedup_key=f"d-{n}-0",
        seen_at=now,
        title=f"api-{n} out of memory",
    )
    d = diag or diagnosis()
    store.save_diagnosis(
        recorded.incident_id,
        category=d.category,
        confidence=d.confidence,
        summary=d.summary,
        payload=d.contract(),
        model="rules",
        version="1",
    )
    return recorded.incident_id


def _no_diagnosis(snapshot: Snapshot) -> Diagnosis:
    raise AssertionError("these tests store diagnoses directly; the analyze stage is not part of them")


class SlackWorld:
    def __init__(
        self,
        store: Store,
        slack: FakeSlack,
        *,
        pacer: Pacer | None = None,
        seen: Seen | None = None,
        **context: Any,
    ) -> None:
        self.store = store
        self.slack = slack
        self.client = WebClient(token="xoxb-test", base_url=slack.url)
        self.outbox = Outbox(self.client, pacer or MemoryPacer(0.0), digest_after=context.pop("digest_after", 3))
        self.notifier = SlackNotifier(store, self.outbox, default_channel=CHANNEL, routes=context.pop("routes", {}))
        self.enqueue = Recorder()
        self.ctx = BotContext(store, self.notifier, self.enqueue, seen or MemorySeen(), **context)
        self.app: App = build_app(self.ctx, client=self.client, signing_secret=SECRET, process_before_response=True)
        self.pipeline = Pipeline(store, _no_diagnosis, self.notifier, self.enqueue)
        self._ids = itertools.count(1)
        self.outbox.start()

    def close(self) -> None:
        self.outbox.stop()

    def notify(self, incident_id: int) -> str:
        """Run the pipeline's real notify stage (what the notify task does) with the SlackNotifier."""
        return notify(self.pipeline, incident_id)

    def settle(self) -> None:
        """Wait until the outbox has sent everything queued (listeners' thread notes, details replies)."""
        assert self.outbox.wait_idle(60), "the outbox did not drain"

    def dispatch(self, body: str, headers: dict[str, str]) -> BoltResponse:
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def signed(self, body: str, content_type: str, **extra: str) -> BoltResponse:
        return self.dispatch(body, {"content-type": content_type, **sign(body), **extra})

    def command(self, text: str, *, user: str = "U_ALICE", channel: str = CHANNEL) -> BoltResponse:
        form = {
            "command": "/aeth",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": "T1",
            "response_url": f"{self.slack.url}response",
            "trigger_id": f"13345224609.{next(self._ids)}.8088930838d88f008e0",
        }
        return self.signed(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, *, user: str, channel: str = CHANNEL, ts: str = "1") -> BoltResponse:
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(self._ids)}",
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": ts, "channel_id": channel},
            "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button", "action_ts": "1"}],
        }
        return self.signed(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def submit_view(self, view: dict[str, Any], *, user: str) -> BoltResponse:
        payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "view": view}
        return self.signed(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **headers: str) -> BoltResponse:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        return self.signed(json.dumps(body), "application/json", **headers)

    def reaction(self, name: str, *, user: str, ts: str, added: bool = True, **kw: Any) -> BoltResponse:
        item = {"type": "message", "channel": CHANNEL, "ts": ts}
        kind = "reaction_added" if added else "reaction_removed"
        return self.event({"type": kind, "user": user, "reaction": name, "item": item, "event_ts": "1"}, **kw)

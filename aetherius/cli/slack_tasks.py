"""The Celery tasks behind the Slack app's ``/aeth`` answers, buttons and reactions, registered by ``aeth worker``.

The bot enqueues them by name (`bot.ports`); their bodies live in `bot.answering`, `bot.learning` and `bot.dryrun`.
They are registered here, in the composition root, because they need both sides: the cluster (collectors) and
Slack (bot), which `tasks/` must not import. Each runs under the same retry policy as the pipeline's stages.

What a worker process needs (Web API client, paced notifier, case store, cluster reader) is built the first time a
task runs in it, after the prefork pool's ``fork()``, and reused afterwards.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from slack_sdk import WebClient

from aetherius.cli.pipeline_wiring import ClusterCapture
from aetherius.cli.slack_wiring import KubeReads, slack_notifier, web_client
from aetherius.cli.wiring import open_case_store
from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from aetherius.store import Store
from bot.answering import answer_diagnosis, answer_read, answer_similar
from bot.dryrun import dry_run_text, find_recommendation
from bot.learning import learn_from_feedback
from bot.notifier import SlackNotifier
from bot.ports import DIAGNOSE_POD, DRY_RUN, LEARN, READ_CLUSTER, SIMILAR
from knowledge.casestore import CaseStore
from knowledge.redaction import redact_text
from tasks import runtime
from tasks.app import run_stage
from tasks.policy import RetryPolicy


class SlackSide:
    """One worker process's Slack-facing parts, each built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def store(self) -> Store:
        return runtime.pipeline().store

    @cached_property
    def client(self) -> WebClient:
        return web_client(self.settings)

    @cached_property
    def notifier(self) -> SlackNotifier:
        """The pipeline's own Slack notifier when it has one (one outbox per process), else a new one."""
        existing = runtime.pipeline().notifier
        return (
            existing if isinstance(existing, SlackNotifier) else slack_notifier(self.settings, self.store, self.client)
        )

    @cached_property
    def cases(self) -> CaseStore:
        return open_case_store(self.settings)

    @cached_property
    def reads(self) -> KubeReads:
        return KubeReads(self.settings)

    @cached_property
    def capture(self) -> ClusterCapture:
        return ClusterCapture(self.settings)

    def tell(self, kwargs: dict[str, str], text: str) -> None:
        """A one-line answer only the asker sees."""
        self.client.chat_postEphemeral(channel=kwargs["channel"], user=kwargs["user"], text=redact_text(text))


_lock = threading.Lock()
_side: tuple[int, SlackSide] | None = None


def side_for(settings: Settings) -> SlackSide:
    global _side
    with _lock:
        if _side is None or _side[0] != os.getpid():
            _side = (os.getpid(), SlackSide(settings))
        return _side[1]


def diagnose_pod(side: SlackSide, kwargs: dict[str, str]) -> str:
    """Capture the pod now, diagnose it, answer with the whole thread in the asker's channel."""
    cluster = kwargs.get("cluster") or side.settings.cluster_name
    try:
        snapshot = side.capture(cluster, kwargs["namespace"], kwargs["pod"])
    except AetheriusError as err:
        side.tell(kwargs, f"Cannot diagnose pod/{kwargs['pod']} -n {kwargs['namespace']} ({cluster}): {err}")
        return "error"
    diagnosis = runtime.pipeline().diagnose(snapshot)
    posted = answer_diagnosis(side.notifier, diagnosis, {**kwargs, "cluster": cluster})
    return f"posted {posted.ts}"


def read_cluster(side: SlackSide, kwargs: dict[str, str]) -> str:
    return answer_read(side.reads, side.client, kwargs, inline_chars=side.settings.slack_inline_chars)


def similar(side: SlackSide, kwargs: dict[str, str]) -> str:
    return answer_similar(side.cases.search, side.store, side.client, kwargs, k=side.settings.similar_cases)


def learn(side: SlackSide, kwargs: dict[str, str]) -> str:
    incident_id = int(kwargs["incident_id"])
    case, forgotten = learn_from_feedback(
        side.store, side.cases.add, lambda case_id: side.cases.delete(case_id, source="slack"), incident_id
    )
    if case is not None:
        return f"learned {case.id} as {case.category}"
    return f"forgot the case learned from incident #{incident_id}" if forgotten else "nothing to learn yet"


def dry_run(side: SlackSide, kwargs: dict[str, str]) -> str:
    """Post the recommendation's server-side dry-run commands in the incident's thread."""
    incident_id = int(kwargs["incident_id"])
    diagnosis = side.store.latest_diagnosis(incident_id)
    recommendations = diagnosis.payload.get("recommendations") if diagnosis else None
    recommendation = find_recommendation(recommendations if isinstance(recommendations, list) else [], kwargs["action"])
    if recommendation is None:
        text = f"<@{kwargs['user']}> asked for a dry-run of `{kwargs['action']}`, which this incident no longer offers."
    else:
        text = f"{dry_run_text(recommendation)}\nAsked by <@{kwargs['user']}>."
    side.store.audit(
        actor=f"slack:{kwargs['user']}",
        kind="slack.dry_run",
        detail={"action": kwargs["action"]},
        incident_id=incident_id,
    )
    side.notifier.reply(incident_id, text)
    return "posted" if recommendation else "no such recommendation"


BODIES: dict[str, Callable[[SlackSide, dict[str, str]], str]] = {
    DIAGNOSE_POD: diagnose_pod,
    READ_CLUSTER: read_cluster,
    SIMILAR: similar,
    LEARN: learn,
    DRY_RUN: dry_run,
}


def register_slack_tasks(app: Any, settings: Settings, policy: RetryPolicy) -> None:
    """Register every Slack-born task on the worker's Celery app."""
    for name, body in BODIES.items():
        app.task(name=name, bind=True, acks_late=True, max_retries=None, shared=False)(
            _task(name, body, settings, policy)
        )


def _task(
    name: str, body: Callable[[SlackSide, dict[str, str]], str], settings: Settings, policy: RetryPolicy
) -> Callable[..., str]:
    def run(task: Any, **kwargs: Any) -> str:
        def call(**given: Any) -> str:
            return body(side_for(settings), {key: str(value) for key, value in given.items()})

        return run_stage(task, name, call, kwargs, policy)

    return run

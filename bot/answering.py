"""The worker side of ``/aeth``: read-only cluster commands, ``similar`` and ``diagnose`` answered in Slack.

For ``logs|describe|top`` the worker reads through the `ClusterReads` port and answers in the channel.

The bot does not import a Kubernetes client; the composition root gives the worker a `ClusterReads` built on the
collectors' `ClusterReader`. What comes back is redacted and posted inline or as a file (`bot.readonly`); a
read that fails is answered with its one-line reason, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from slack_sdk import WebClient

from aetherius.diagnoses import Diagnosis, SimilarCase
from aetherius.errors import AetheriusError
from aetherius.store import Store
from bot.blocks import escape
from bot.notifier import SlackNotifier
from bot.notifying import Posted
from bot.readonly import deliver_output
from bot.threads import build_thread
from knowledge.redaction import redact_text


class ClusterReads(Protocol):
    def logs(self, cluster: str, namespace: str, pod: str, *, previous: bool, tail: int) -> str: ...

    def describe(self, cluster: str, namespace: str, pod: str) -> str: ...

    def top(self, cluster: str, namespace: str) -> str: ...


def answer_read(reads: ClusterReads, client: WebClient, kwargs: dict[str, str], *, inline_chars: int = 2500) -> str:
    """The body of the ``aeth.read_cluster`` task; returns how the answer was delivered."""
    verb, cluster, namespace, pod = kwargs["verb"], kwargs["cluster"], kwargs["namespace"], kwargs.get("pod", "")
    title = f"{verb} {'pod/' + pod if pod else 'pods'} -n {namespace} ({cluster})"
    try:
        if verb == "logs":
            text = reads.logs(cluster, namespace, pod, previous=bool(kwargs.get("previous")), tail=int(kwargs["tail"]))
        elif verb == "describe":
            text = reads.describe(cluster, namespace, pod)
        elif verb == "top":
            text = reads.top(cluster, namespace)
        else:
            raise ValueError(f"unknown read-only command {verb!r}")
    except AetheriusError as err:
        message = redact_text(f"`{title}` failed: {err}")
        client.chat_postEphemeral(channel=kwargs["channel"], user=kwargs["user"], text=message)
        return "error"
    return deliver_output(
        client, channel=kwargs["channel"], thread_ts=kwargs.get("thread_ts") or None, title=title, text=text,
        inline_chars=inline_chars,
    )  # fmt: skip


SimilarSearch = Callable[[str, int], list[SimilarCase]]
"""``search(text, k)``: the case store's search (the real side: ``CaseStore.search``)."""


def answer_similar(search: SimilarSearch, store: Store, client: WebClient, kwargs: dict[str, str], k: int = 5) -> str:
    """The body of the ``aeth.similar`` task: past cases like the text, or like incident ``#N``'s diagnosis."""
    query = kwargs["query"].strip()
    if query.lstrip("#").isdigit():
        incident_id = int(query.lstrip("#"))
        diagnosis = store.latest_diagnosis(incident_id)
        if diagnosis is None:
            text = f"Incident #{incident_id} has no diagnosis yet, so there is nothing to compare."
            client.chat_postEphemeral(channel=kwargs["channel"], user=kwargs["user"], text=text)
            return "nothing"
        query = "\n".join([diagnosis.summary, *[str(e) for e in diagnosis.payload.get("evidence", [])]])
    found = search(redact_text(query), k)
    lines = [f"• {c.similarity:.2f} *{escape(c.title)}* ({c.category}) — fix: {escape(c.fix)}" for c in found]
    text = "*Similar past cases*\n" + ("\n".join(lines) if lines else "none found")
    client.chat_postEphemeral(channel=kwargs["channel"], user=kwargs["user"], text=redact_text(text)[:3000])
    return f"{len(found)} cases"


def answer_diagnosis(notifier: SlackNotifier, diagnosis: Diagnosis, kwargs: dict[str, str]) -> Posted:
    """The last step of the ``aeth.diagnose_pod`` task: the full diagnosis as a thread in the asker's channel."""
    subject = diagnosis.subject or f"{kwargs.get('namespace', '')}/{kwargs.get('pod', '')}"
    thread = build_thread(diagnosis.model_copy(update={"subject": subject}), cluster=kwargs.get("cluster", ""))
    return notifier.post_thread(kwargs["channel"], thread, note=f"Asked by <@{kwargs['user']}> with /aeth diagnose.")

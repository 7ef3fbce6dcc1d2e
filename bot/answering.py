"""The worker side of ``/aeth logs|describe|top``: read through the `ClusterReads` port, answer in the channel.

The bot does not import a Kubernetes client; the composition root gives the worker a `ClusterReads` built on the
collectors' `ClusterReader`. What comes back is redacted and posted inline or as a file (`bot.readonly`); a
read that fails is answered with its one-line reason, never a traceback.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient

from aetherius.errors import AetheriusError
from bot.readonly import deliver_output
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

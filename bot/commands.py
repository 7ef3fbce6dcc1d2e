"""``/aeth``: quick answers come back in the ack itself; anything that reads a cluster or a model is enqueued.

``help``, ``incidents``, ``status`` and ``stats`` are a few indexed store reads, answered within Slack's
3-second ack. ``diagnose``, ``similar`` and the read-only ``logs``/``describe``/``top`` are acked at once with
"on it" and handed to a worker by name with id-only kwargs (`bot.ports`); the worker answers in a thread.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from aetherius.errors import AetheriusError
from aetherius.incidents import ACTIVE_STATES
from bot.commandline import READ_ONLY, USAGE, Command, UsageError, parse
from bot.context import BotContext
from bot.ports import DIAGNOSE_POD, READ_CLUSTER, SIMILAR
from bot.readonly import readonly_allowed
from bot.summaries import incidents_text, stats_text, status_text

log = logging.getLogger("aetherius.slack")


def answer(ctx: BotContext, command: dict[str, Any]) -> str:
    """The text to ack with; enqueues the job for the commands that need a worker."""
    try:
        cmd = parse(str(command.get("text") or ""))
    except UsageError as err:
        return f"{err}.\n{USAGE}"
    if cmd.verb == "help":
        return USAGE
    if cmd.verb == "incidents":
        return incidents_text(ctx.store.list_incidents(states=ACTIVE_STATES, limit=100))
    if cmd.verb == "stats":
        return stats_text(ctx.store.feedback_totals())
    if cmd.verb == "status":
        return status_text(ctx.store.list_clusters(), ctx.clock(), ctx.stale_after_s, ctx.queue_depth())
    who = {"channel": str(command.get("channel_id") or ""), "user": str(command.get("user_id") or "")}
    who["response_url"] = str(command.get("response_url") or "")
    if cmd.verb == "similar":
        ctx.enqueue(SIMILAR, {"query": cmd.query, **who})
        return "Looking for similar past cases…"
    return _cluster_job(ctx, cmd, who)


def _cluster_job(ctx: BotContext, cmd: Command, who: dict[str, str]) -> str:
    cluster = cmd.cluster or ctx.default_cluster
    target = f"pod/{cmd.pod}" if cmd.pod else "pods"
    if cmd.verb in READ_ONLY and not readonly_allowed(ctx.readonly, who["channel"], cmd.namespace):
        return f"`{cmd.verb}` is not allowed for namespace `{cmd.namespace}` in this channel."
    if cmd.verb == "diagnose":
        ctx.enqueue(DIAGNOSE_POD, {"pod": cmd.pod, "namespace": cmd.namespace, "cluster": cluster, **who})
        return f"Diagnosing {target} in {cluster}/{cmd.namespace}; the diagnosis will be posted in a thread."
    kwargs = {"verb": cmd.verb, "pod": cmd.pod, "namespace": cmd.namespace, "cluster": cluster}
    kwargs |= {"previous": "1" if cmd.previous else "", "tail": str(cmd.tail), **who}
    ctx.enqueue(READ_CLUSTER, kwargs)
    return f"Reading `{cmd.verb} {target}` in {cluster}/{cmd.namespace}…"


def register(app: App, ctx: BotContext) -> None:
    @app.command("/aeth")
    def aeth(ack: Ack, command: dict[str, Any]) -> None:
        try:
            text = answer(ctx, command)
        except AetheriusError as err:
            text = f"Sorry, that failed: {err}"
        ack(text=text, response_type="ephemeral")

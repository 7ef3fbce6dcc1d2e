"""The Notifier port: how the notify task tells people about an incident, whatever the channel (console, Slack).

A worker's notify task calls exactly one of these per run, from ids it re-read in the store:

- ``post_incident`` the first time (the incident has no recorded root message): start the thread, return where
  it lives. The task records the returned `Posted` as the incident's ``root`` notification in the same
  transaction that moves it ``diagnosed → notified``.
- ``update_incident`` on a re-run or a re-diagnosis (a root message is recorded): edit the thread in place,
  never post a second root message. Returns where the thread lives now (normally ``posted`` unchanged).
- ``resolve_incident`` when the incident is resolved (Alertmanager said so, the pod recovered): mark the thread.

Contract for implementations (the console one below, the Slack one in ``bot/notifier.py``):

- Inputs are frozen values: `IncidentView` (from the store) and the `Thread` already built from its diagnosis by
  `bot.threads.build_thread`. Text in them was redacted when the diagnosis was made; a notifier that adds text of
  its own from logs or objects redacts it too.
- Raise `aetherius.errors.TemporaryError` for what is worth retrying (429, 5xx, timeouts): the task retries with
  back-off. Raise `aetherius.errors.PermanentError` for what will not get better (``channel_not_found``,
  ``invalid_auth``): the task writes a dead letter. Nothing else should escape.
- Be safe to call again with the same arguments: a task may run twice (acks_late redelivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.console import Console

from aetherius.store.views import IncidentView
from bot.console import render_thread
from bot.threads import Thread


@dataclass(frozen=True)
class Posted:
    """Where an incident's thread lives: a channel and the root message's id (Slack ``ts``)."""

    channel: str
    ts: str


class Notifier(Protocol):
    def post_incident(self, incident: IncidentView, thread: Thread) -> Posted:
        """Start the incident's thread; return where its root message is."""

    def update_incident(self, incident: IncidentView, thread: Thread, posted: Posted) -> Posted:
        """Redraw the thread whose root message is ``posted`` (no new root message)."""

    def resolve_incident(self, incident: IncidentView, posted: Posted, reason: str) -> None:
        """Mark the thread at ``posted`` as resolved, saying why."""


class ConsoleNotifier:
    """Draws threads in a terminal (``aeth run``, ``aeth demo``): the same content Slack receives."""

    def __init__(self, console: Console | None = None, channel: str = "console") -> None:
        self.console = console or Console()
        self.channel = channel

    def post_incident(self, incident: IncidentView, thread: Thread) -> Posted:
        render_thread(thread, self.console)
        return Posted(self.channel, f"incident-{incident.id}")

    def update_incident(self, incident: IncidentView, thread: Thread, posted: Posted) -> Posted:
        self.console.print(f"[dim]updated incident #{incident.id} ({posted.ts}):[/]")
        render_thread(thread, self.console)
        return posted

    def resolve_incident(self, incident: IncidentView, posted: Posted, reason: str) -> None:
        self.console.print(f"[bold green]✓ resolved[/] incident #{incident.id} {incident.title}: {reason}")

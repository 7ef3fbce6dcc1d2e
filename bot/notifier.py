"""SlackNotifier: an incident becomes one Slack thread, kept current by editing its parent, never by reposting.

- First call for an incident: the parent (header, severity, cluster/namespace/workload, category and confidence,
  summary, count, last seen) goes out through the `Outbox`; once Slack gives its ts, the store records it as the
  incident's thread and the details (evidence, similar cases, recommendations with their buttons, feedback
  prompt) are posted as one reply in it. In a storm the parent may be folded into a digest instead; the store
  then records the digest as the incident's notification.
- Later calls (new occurrences): one ``chat.update`` of the parent; updates still waiting are coalesced.
- Resolution edits the parent and replies in the thread.

Everything posted is built from the same `bot.threads.Thread` the console renderer draws, and redacted first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import Future

from aetherius.diagnoses import Diagnosis
from aetherius.store import IncidentView, Store
from bot.blocks import MAX_BLOCKS, Block, fallback_text, parent_blocks, reply_blocks, section
from bot.lookup import message_of
from bot.outbox import Outbox, Outgoing, Sent
from bot.routing import route
from bot.threads import Thread, build_thread
from knowledge.redaction import redact_object, redact_text

DETAILS = "details"
ROOT = "root"


def thread_of(incident: IncidentView, payload: Mapping[str, object] | None) -> Thread:
    """The incident's thread, from its latest diagnosis payload (redacted) or, before one exists, its title."""
    subject = f"{incident.namespace}/{incident.workload.rsplit('/', 1)[-1]}"
    if payload:
        diagnosis = Diagnosis.model_validate({**redact_object(dict(payload)), "subject": subject})
    else:
        diagnosis = Diagnosis(category="unknown", confidence=0.0, summary=redact_text(incident.title), subject=subject)
    thread = build_thread(diagnosis, cluster=incident.cluster, workload=incident.workload)
    fields = {
        **thread.fields,
        "occurrences": str(incident.occurrences),
        "last seen": incident.last_seen.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    return dataclasses.replace(thread, fields=fields)


def details_blocks(thread: Thread, incident_id: int) -> list[Block]:
    blocks: list[Block] = []
    for reply in thread.replies:
        blocks += reply_blocks(reply, str(incident_id))
    return blocks[:MAX_BLOCKS]


class SlackNotifier:
    def __init__(
        self, store: Store, outbox: Outbox, *, routes: Mapping[str, str] | None = None, default_channel: str
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.routes = dict(routes or {})
        self.default_channel = default_channel

    def channel_for(self, incident: IncidentView, thread: Thread) -> str:
        return route(
            self.routes,
            self.default_channel,
            cluster=incident.cluster,
            namespace=incident.namespace,
            severity=thread.severity,
        )

    def _thread(self, incident_id: int) -> tuple[IncidentView, Thread]:
        incident = self.store.get_incident(incident_id)
        diagnosis = self.store.latest_diagnosis(incident_id)
        return incident, thread_of(incident, diagnosis.payload if diagnosis else None)

    def notify_incident(self, incident_id: int) -> Future[Sent]:
        """Post the incident's thread, or update its parent when it has one."""
        incident, thread = self._thread(incident_id)
        if incident.slack_channel and incident.slack_ts:
            return self.outbox.submit(
                Outgoing(
                    incident.slack_channel,
                    fallback_text(thread),
                    parent_blocks(thread),
                    update_ts=incident.slack_ts,
                )
            )
        channel = self.channel_for(incident, thread)
        line = f"• #{incident.id} [{thread.severity}] {thread.header} · {incident.cluster}/{incident.namespace}"
        root = Outgoing(channel, fallback_text(thread), parent_blocks(thread), digest_line=redact_text(line))
        root.future.add_done_callback(lambda f: self._after_root(incident_id, channel, thread, f))
        return self.outbox.submit(root)

    def _after_root(self, incident_id: int, channel: str, thread: Thread, done: Future[Sent]) -> None:
        if done.exception() is not None:
            return
        sent = done.result()
        if sent.folded:
            self.store.record_notification(incident_id, channel=channel, kind="digest", payload={}, message_ts=sent.ts)
            return
        self.store.record_notification(incident_id, channel=channel, kind=ROOT, payload={}, message_ts=sent.ts)
        details = Outgoing(channel, f"Details: {thread.header}", details_blocks(thread, incident_id), thread_ts=sent.ts)
        details.future.add_done_callback(lambda f: self._record(incident_id, channel, DETAILS, f))
        self.outbox.submit(details)

    def _record(self, incident_id: int, channel: str, kind: str, done: Future[Sent]) -> None:
        if done.exception() is None:
            ts = done.result().ts
            self.store.record_notification(incident_id, channel=channel, kind=kind, payload={}, message_ts=ts)

    def notify_resolved(self, incident_id: int, note: str = "") -> None:
        """Edit the parent to say resolved and reply in the thread; nothing when the incident has no thread."""
        incident, thread = self._thread(incident_id)
        if not (incident.slack_channel and incident.slack_ts):
            return
        resolved = dataclasses.replace(thread, header=f"✅ Resolved · {thread.header}")
        self.outbox.submit(
            Outgoing(
                incident.slack_channel, fallback_text(resolved), parent_blocks(resolved), update_ts=incident.slack_ts
            )
        )
        when = incident.resolved_at.strftime("%Y-%m-%d %H:%M UTC") if incident.resolved_at else "now"
        self.reply(incident_id, f"Resolved at {when}. {note}".strip())

    def reply(self, incident_id: int, text: str) -> Future[Sent] | None:
        """A line in the incident's thread (approval decisions, results); redacted."""
        incident = self.store.get_incident(incident_id)
        if not (incident.slack_channel and incident.slack_ts):
            return None
        text = redact_text(text)
        return self.outbox.submit(Outgoing(incident.slack_channel, text, [section(text)], thread_ts=incident.slack_ts))

    def replace_details(self, incident_id: int, blocks: list[Block], text: str) -> Future[Sent] | None:
        """Edit the details reply (an expired approval's buttons become a note)."""
        where = message_of(self.store, incident_id, DETAILS)
        if where is None:
            return None
        return self.outbox.submit(Outgoing(where[0], text, blocks[:MAX_BLOCKS], update_ts=where[1]))

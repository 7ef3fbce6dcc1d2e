"""SlackNotifier: an incident becomes one Slack thread, kept current by editing its parent, never by reposting.

It implements the `bot.notifying.Notifier` port the notify task calls:

- ``post_incident``: the parent (header, severity, cluster/namespace/workload, category and confidence, summary,
  count, last seen) goes out through the `Outbox`; its ts is returned for the task to record as the incident's
  thread, and the details (evidence, similar cases, recommendations with their buttons, the feedback prompt) follow
  as one reply in it, recorded as a ``details`` notification. In a storm the parent may be folded into a digest;
  the fold is noted in the audit log (``slack.digested``) so that later edits leave the shared digest alone.
- ``update_incident`` (new occurrences, a re-diagnosis): one ``chat.update`` of the parent, coalesced with edits
  still queued: 200 occurrences make one parent and a handful of edits, never 200 posts.
- ``resolve_incident``: edits the parent and replies in the thread.

Posting a parent is not idempotent in Slack (no idempotency key for bots), and the task records its ts only after
Slack answers: a worker killed in between, or a database that refuses the record, would make the retry post a
second parent. So every parent carries message metadata (``aetherius_incident``: incident id and fingerprint) and
an attempt is noted in the audit log before it is sent. A retry that finds such a note first looks for its parent
in the channel's recent history (``conversations.history``, which needs the ``channels:history`` /
``groups:history`` scopes) and adopts it instead of posting again. Without those scopes it posts again, saying so
in our log: a duplicate is better than silence. The first attempt never reads history.

Everything posted is built from the same `bot.threads.Thread` the console renderer draws, and redacted first.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_sdk.errors import SlackApiError

from aetherius.diagnoses import Diagnosis
from aetherius.errors import TemporaryError
from aetherius.store import IncidentView, Store
from bot.blocks import MAX_BLOCKS, MAX_SECTION, Block, fallback_text, parent_blocks, reply_blocks, section
from bot.notifying import Posted
from bot.outbox import Outbox, Outgoing, Sent
from bot.routing import route
from bot.threads import Thread, build_thread
from knowledge.redaction import redact_object, redact_text

DETAILS = "details"
DIGESTED = "slack.digested"
ROOT_ATTEMPT = "slack.root_attempt"
ROOT_ADOPTED = "slack.root_adopted"
METADATA_TYPE = "aetherius_incident"
HISTORY_MARGIN_S = 120.0
"""History is read from this long before the first attempt (clock skew between us and Slack)."""

log = logging.getLogger("aetherius.slack")


def root_metadata(incident: IncidentView) -> dict[str, Any]:
    """What a parent message carries so that it can be recognised later: ours, and for which incident."""
    payload = {"incident_id": incident.id, "fingerprint": incident.fingerprint}
    return {"event_type": METADATA_TYPE, "event_payload": payload}


def is_root_of(message: Mapping[str, Any], incident: IncidentView) -> bool:
    """Whether a message from ``conversations.history`` is the parent posted for ``incident``."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_TYPE:
        return False
    payload = metadata.get("event_payload")
    return (
        isinstance(payload, Mapping)
        and payload.get("incident_id") == incident.id
        and payload.get("fingerprint") == incident.fingerprint
    )


def thread_of(incident: IncidentView, payload: Mapping[str, object] | None) -> Thread:
    """The incident's thread, from its latest diagnosis payload (redacted) or, before one exists, its title."""
    subject = f"{incident.namespace}/{incident.workload.rsplit('/', 1)[-1]}"
    if payload:
        diagnosis = Diagnosis.model_validate({**redact_object(dict(payload)), "subject": subject})
    else:
        diagnosis = Diagnosis(category="unknown", confidence=0.0, summary=redact_text(incident.title), subject=subject)
    return current(incident, build_thread(diagnosis, cluster=incident.cluster, workload=incident.workload))


def current_text(thread: Thread) -> Thread:
    """The thread with every text redacted (diagnoses are redacted when made; this holds if one was not)."""
    return Thread(
        header=redact_text(thread.header),
        severity=thread.severity,
        fields={k: redact_text(v) for k, v in thread.fields.items()},
        summary=redact_text(thread.summary),
        replies=[
            dataclasses.replace(r, title=redact_text(r.title), lines=[redact_text(line) for line in r.lines])
            for r in thread.replies
        ],
    )


def current(incident: IncidentView, thread: Thread) -> Thread:
    """The thread as Slack shows it: redacted, with the occurrence count and last sighting in the parent."""
    thread = current_text(thread)
    fields = {
        **thread.fields,
        "occurrences": str(incident.occurrences),
        "last seen": incident.last_seen.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    return dataclasses.replace(thread, fields=fields)


def needs_full_report(thread: Thread) -> bool:
    """Some text would be cut to fit Block Kit (3,000 chars a section, 50 blocks): then the whole goes as a file."""
    texts = [thread.summary] + [f"*{r.title}*\n" + "\n".join(r.lines) for r in thread.replies]
    return any(len(t) > MAX_SECTION for t in texts) or len(details_blocks(thread, 0)) >= MAX_BLOCKS


def full_report(thread: Thread) -> str:
    """The whole thread as plain text, nothing truncated (already redacted by `current_text`)."""
    lines = [thread.header, f"severity: {thread.severity}"] + [f"{k}: {v}" for k, v in thread.fields.items()]
    lines += ["", thread.summary]
    for reply in thread.replies:
        lines += ["", reply.title, *reply.lines]
    return "\n".join(lines) + "\n"


def details_blocks(thread: Thread, incident_id: int) -> list[Block]:
    blocks: list[Block] = []
    for reply in thread.replies:
        blocks += reply_blocks(reply, str(incident_id))
    return blocks[:MAX_BLOCKS]


class SlackNotifier:
    """The `bot.notifying.Notifier` for Slack. ``post_incident`` waits until Slack has the message (or the outbox
    folded it into a digest) because the notify task records the ts it returns; updates do not wait, since a newer
    edit replaces an older one still queued and the next occurrence redraws the parent anyway."""

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        *,
        routes: Mapping[str, str] | None = None,
        default_channel: str,
        timeout_s: float = 120.0,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.routes = dict(routes or {})
        self.default_channel = default_channel
        self.timeout_s = timeout_s

    def channel_for(self, incident: IncidentView, thread: Thread) -> str:
        return route(
            self.routes,
            self.default_channel,
            cluster=incident.cluster,
            namespace=incident.namespace,
            severity=thread.severity,
        )

    # --- the Notifier port ---

    def post_incident(self, incident: IncidentView, thread: Thread) -> Posted:
        thread = current(incident, thread)
        channel = self.channel_for(incident, thread)
        earlier = self._earlier_root(incident, channel)
        if earlier is not None:
            self.store.audit(
                actor="notifier", kind=ROOT_ADOPTED, detail={"channel": channel, "ts": earlier}, incident_id=incident.id
            )
            if self.store.sent_message(incident.id, DETAILS) is None:
                self._after_root(incident.id, channel, thread, _done(Sent(earlier)))
            return Posted(channel, earlier)
        detail = {"channel": channel, "at": time.time()}
        self.store.audit(actor="notifier", kind=ROOT_ATTEMPT, detail=detail, incident_id=incident.id)
        line = f"• #{incident.id} [{thread.severity}] {thread.header} · {incident.cluster}/{incident.namespace}"
        root = Outgoing(
            channel,
            fallback_text(thread),
            parent_blocks(thread),
            digest_line=redact_text(line),
            metadata=root_metadata(incident),
        )
        root.future.add_done_callback(lambda f: self._after_root(incident.id, channel, thread, f))
        sent = self._wait(self.outbox.submit(root))
        return Posted(channel, sent.ts)

    def update_incident(self, incident: IncidentView, thread: Thread, posted: Posted) -> Posted:
        if not self._in_digest(incident.id, posted):
            thread = current(incident, thread)
            self.outbox.submit(
                Outgoing(posted.channel, fallback_text(thread), parent_blocks(thread), update_ts=posted.ts)
            )
        return posted

    def resolve_incident(self, incident: IncidentView, posted: Posted, reason: str) -> None:
        if self._in_digest(incident.id, posted):
            return
        incident_thread = thread_of(incident, self._payload(incident.id))
        resolved = dataclasses.replace(incident_thread, header=f"✅ Resolved · {incident_thread.header}")
        self.outbox.submit(
            Outgoing(posted.channel, fallback_text(resolved), parent_blocks(resolved), update_ts=posted.ts)
        )
        when = incident.resolved_at.strftime("%Y-%m-%d %H:%M UTC") if incident.resolved_at else "now"
        text = redact_text(f"{str(incident.state).capitalize()} at {when}: {reason}")
        self._wait(self.outbox.submit(Outgoing(posted.channel, text, [section(text)], thread_ts=posted.ts)))

    def post_thread(self, channel: str, thread: Thread, *, note: str = "") -> Posted:
        """A thread that is not (yet) a stored incident: ``/aeth diagnose`` answers in the asker's channel."""
        thread = current_text(thread)
        blocks = parent_blocks(thread) + (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}] if note else []
        )
        sent = self._wait(self.outbox.submit(Outgoing(channel, fallback_text(thread), blocks)))
        details = Outgoing(channel, f"Details: {thread.header}", details_blocks(thread, 0), thread_ts=sent.ts)
        self._wait(self.outbox.submit(details))
        return Posted(channel, sent.ts)

    # --- thread replies and edits for the listeners ---

    def reply(self, incident_id: int, text: str) -> Future[Sent] | None:
        """A line in the incident's thread (approval decisions, corrections); redacted. Does not wait."""
        incident = self.store.get_incident(incident_id)
        if not (incident.slack_channel and incident.slack_ts):
            return None
        text = redact_text(text)
        return self.outbox.submit(Outgoing(incident.slack_channel, text, [section(text)], thread_ts=incident.slack_ts))

    def replace_details(self, incident_id: int, blocks: list[Block], text: str) -> Future[Sent] | None:
        """Edit the details reply (buttons of a decided or expired approval become a note)."""
        where = self.store.sent_message(incident_id, DETAILS)
        if where is None:
            return None
        return self.outbox.submit(Outgoing(where[0], text, blocks[:MAX_BLOCKS], update_ts=where[1]))

    # --- internals ---

    def _earlier_root(self, incident: IncidentView, channel: str) -> str | None:
        """The ts of a parent an earlier attempt posted but did not record, found in the channel's history."""
        attempts = [
            float(e.detail.get("at") or 0)
            for e in self.store.audit_log(incident_id=incident.id, limit=500)
            if e.kind == ROOT_ATTEMPT and e.detail.get("channel") == channel
        ]
        if not attempts:
            return None
        try:
            answer = self.outbox.client.conversations_history(
                channel=channel, oldest=f"{min(attempts) - HISTORY_MARGIN_S:.6f}", include_all_metadata=True, limit=200
            )
        except SlackApiError as err:
            why = err.response.get("error") or err.response.status_code
            log.warning(
                "incident #%s: an earlier post may not have been recorded, and its channel history cannot be read "
                "(%s; the app needs channels:history / groups:history); posting again",
                incident.id,
                why,
            )
            return None
        for message in answer.get("messages") or []:
            if isinstance(message, Mapping) and is_root_of(message, incident):
                return str(message["ts"])
        return None

    def _payload(self, incident_id: int) -> dict[str, object] | None:
        diagnosis = self.store.latest_diagnosis(incident_id)
        return diagnosis.payload if diagnosis else None

    def _wait(self, future: Future[Sent]) -> Sent:
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            raise TemporaryError(f"Slack outbox did not send within {self.timeout_s:.0f}s; retry later") from None

    def _after_root(self, incident_id: int, channel: str, thread: Thread, done: Future[Sent]) -> None:
        if done.exception() is not None:
            return
        sent = done.result()
        if sent.folded:
            detail = {"channel": channel, "ts": sent.ts}
            self.store.audit(actor="notifier", kind=DIGESTED, detail=detail, incident_id=incident_id)
            return
        details = Outgoing(channel, f"Details: {thread.header}", details_blocks(thread, incident_id), thread_ts=sent.ts)
        details.future.add_done_callback(lambda f: self._record(incident_id, channel, f))
        self.outbox.submit(details)
        if needs_full_report(thread):
            report = Outgoing(
                channel, f"Full report: {thread.header}", thread_ts=sent.ts, file_text=full_report(thread)
            )
            report.filename = f"incident-{incident_id}-report.txt"
            self.outbox.submit(report)

    def _record(self, incident_id: int, channel: str, done: Future[Sent]) -> None:
        if done.exception() is None:
            ts = done.result().ts
            self.store.record_notification(
                incident_id, channel=channel, kind=DETAILS, payload={}, message_ts=ts, advance=False
            )

    def _in_digest(self, incident_id: int, posted: Posted) -> bool:
        """Folded into a storm digest: it has no parent of its own to edit (the digest lists it once)."""
        entries = self.store.audit_log(incident_id=incident_id, limit=500)
        return any(e.kind == DIGESTED and e.detail.get("ts") == posted.ts for e in entries)


def _done(sent: Sent) -> Future[Sent]:
    future: Future[Sent] = Future()
    future.set_result(sent)
    return future

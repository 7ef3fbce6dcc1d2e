"""The one queue every outbound Slack message goes through: paced per channel, 429-aware, folding bursts.

Why one queue: Slack allows about one message per second per channel, and a storm of incidents would otherwise
become a wall of posts nobody reads. So:

- each channel gets a slot per interval (`bot.pacing`); a 429 moves the slot by its ``Retry-After`` and the message
  goes back to the head of its queue, nothing is lost;
- when a channel's slot comes and ``digest_after`` or more *foldable* posts (new-incident roots) wait for it, they
  become one digest message that lists every one of them, split over as many messages as Slack's limits need;
- pending updates of the same message are coalesced: only the newest text is sent (200 occurrences, one edit);
- a post is retried only when Slack did not take it (429, connection refused); an update is idempotent and is
  retried after any transient failure. A post that may have been taken is never sent twice.

`submit` returns a Future with the message ts (the digest's ts when folded), so a worker can wait until its
message is really out before it acks its job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from aetherius.errors import PermanentError
from bot.blocks import MAX_BLOCKS, MAX_SECTION, Block
from bot.pacing import Pacer
from knowledge.redaction import redact_text

log = logging.getLogger("aetherius.slack")


class SlackRefused(PermanentError):
    """Slack refused the message for good (``channel_not_found``, ``invalid_auth``...); retrying will not help."""


@dataclass(frozen=True)
class Sent:
    ts: str
    folded: bool = False


@dataclass
class Outgoing:
    channel: str
    text: str
    blocks: list[Block] = field(default_factory=list)
    thread_ts: str | None = None
    update_ts: str | None = None
    """Edit this message (chat.update) instead of posting a new one."""
    digest_line: str | None = None
    """Set on posts that may be folded into a digest with others waiting in the same channel."""
    file_text: str | None = None
    """Upload this as a file (named ``filename``, titled ``text``) instead of posting a message."""
    filename: str = "report.txt"
    metadata: dict[str, Any] | None = None
    """Slack message metadata (``event_type``, ``event_payload``) posted with the message, to find it again."""
    future: Future[Sent] = field(default_factory=Future)


def digest_messages(channel: str, lines: list[str], header: str) -> list[Outgoing]:
    """Every line, in as few messages as Slack's limits allow (sections ≤ 3,000 chars, ≤ 50 blocks)."""
    chunks: list[str] = []
    for line in lines:
        line = line[: MAX_SECTION - 1]
        if chunks and len(chunks[-1]) + 1 + len(line) <= MAX_SECTION:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    per_message = MAX_BLOCKS - 1
    messages = []
    for start in range(0, len(chunks), per_message):
        sections = [
            {"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks[start : start + per_message]
        ]
        head = {"type": "header", "text": {"type": "plain_text", "text": header[:150]}}
        messages.append(Outgoing(channel, f"{header} ({len(lines)} incidents)", [head, *sections]))
    return messages


class Outbox:
    def __init__(
        self,
        client: WebClient,
        pacer: Pacer,
        *,
        digest_after: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = 5,
    ) -> None:
        self.client = client
        self.pacer = pacer
        self.digest_after = digest_after
        self.sleep = sleep
        self.retries = retries
        self.failed = 0
        self._queues: dict[str, list[Outgoing]] = {}
        self._lock = threading.Condition()
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._busy = 0

    # --- queueing ---

    def submit(self, message: Outgoing) -> Future[Sent]:
        with self._lock:
            queue = self._queues.setdefault(message.channel, [])
            if message.update_ts is not None:
                for i, waiting in enumerate(queue):
                    if waiting.update_ts == message.update_ts:
                        queue[i] = message  # the newest edit replaces the one not sent yet
                        waiting.future.set_result(Sent(message.update_ts))
                        break
                else:
                    queue.append(message)
            else:
                queue.append(message)
            self._lock.notify_all()
        return message.future

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Wait until nothing is queued or being sent (for orderly shutdown and tests); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while any(self._queues.values()) or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    # --- sending ---

    def drain(self, timeout_s: float | None = None) -> None:
        """Send until every queue is empty (or ``timeout_s`` passes), sleeping only when every channel must wait."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self.pending():
            if deadline is not None and time.monotonic() > deadline:
                return
            wait = self.step()
            if wait > 0:
                self.sleep(wait)

    def step(self) -> float:
        """Send what the free channels allow; the seconds until some channel frees up (0 if something was sent)."""
        with self._lock:
            channels = [c for c, q in self._queues.items() if q]
        waits = []
        for channel in channels:
            wait = self.pacer.reserve(channel)
            if wait > 0:
                waits.append(wait)
                continue
            with self._lock:
                message = self._next(channel)
                self._busy += message is not None
            if message is not None:
                try:
                    self._send(message)
                finally:
                    with self._lock:
                        self._busy -= 1
                        self._lock.notify_all()
            waits.append(0.0)
        return min(waits, default=0.0)

    def _next(self, channel: str) -> Outgoing | None:
        """The next message for ``channel``, a digest when enough posts wait; the caller holds the lock."""
        queue = self._queues.get(channel) or []
        foldable = [m for m in queue if m.digest_line is not None]
        if len(foldable) >= self.digest_after:
            self._queues[channel] = [m for m in queue if m.digest_line is None]
            lines = [m.digest_line or "" for m in foldable]
            digests = digest_messages(channel, lines, f"Incident storm: {len(lines)} new incidents")
            digests[-1].future.add_done_callback(lambda f: _fold(foldable, f))
            self._queues[channel][:0] = digests[1:]
            return digests[0]
        return queue.pop(0) if queue else None

    def _send(self, message: Outgoing) -> None:
        for attempt in range(self.retries):
            try:
                ts = self._call(message)
            except SlackApiError as err:
                status = err.response.status_code
                if status == 429:
                    retry_after = float(err.response.headers.get("Retry-After") or 1)
                    log.warning("Slack rate-limited %s; waiting %.1fs", message.channel, retry_after)
                    self.pacer.defer(message.channel, retry_after)
                    self._requeue(message)
                    return
                if status >= 500 and message.update_ts is not None and attempt < self.retries - 1:
                    self.sleep(min(2**attempt, 30))
                    continue
                self._fail(message, f"Slack refused the message: {err.response.get('error') or status}")
                return
            except ConnectionRefusedError as err:
                if attempt < self.retries - 1:
                    self.sleep(min(2**attempt, 30))
                    continue
                self._fail(message, f"Slack cannot be reached: {err}")
                return
            self.pacer.hold(message.channel)
            message.future.set_result(Sent(ts))
            return

    def _call(self, m: Outgoing) -> str:
        if m.file_text is not None:
            self.client.files_upload_v2(
                channel=m.channel, thread_ts=m.thread_ts, content=m.file_text, filename=m.filename, title=m.text
            )
            return m.thread_ts or ""
        common: dict[str, Any] = {"channel": m.channel, "text": m.text, "blocks": m.blocks or None}
        if m.update_ts is not None:
            self.client.chat_update(ts=m.update_ts, **common)
            return m.update_ts
        if m.metadata is not None:
            common["metadata"] = m.metadata
        answer = self.client.chat_postMessage(thread_ts=m.thread_ts, unfurl_links=False, **common)
        return str(answer["ts"])

    def _requeue(self, message: Outgoing) -> None:
        with self._lock:
            self._queues.setdefault(message.channel, []).insert(0, message)

    def _fail(self, message: Outgoing, why: str) -> None:
        self.failed += 1
        log.error("dropped a message to %s: %s", message.channel, redact_text(why))
        message.future.set_exception(SlackRefused(why))

    # --- background sending ---

    def start(self) -> None:
        """Drain in a daemon thread until `stop`: the mode of a long-running worker."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="slack-outbox", daemon=True)
            self._worker.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and not any(self._queues.values()):
                    self._lock.wait()
                if self._stopping:
                    return
            wait = self.step()
            if wait > 0:
                self.sleep(wait)


def _fold(folded: list[Outgoing], digest: Future[Sent]) -> None:
    try:
        sent = digest.result()
    except Exception as err:  # the digest failed: so did every post it carried
        for m in folded:
            m.future.set_exception(err)
        return
    for m in folded:
        m.future.set_result(Sent(sent.ts, folded=True))

"""What every listener needs, in one object the composition root builds and `bot.app.build_app` hands out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aetherius.store import Store
from bot.dedupe import Seen
from bot.notifier import SlackNotifier
from bot.ports import Enqueue, QueueDepth


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class BotContext:
    store: Store
    notifier: SlackNotifier
    enqueue: Enqueue
    seen: Seen
    approvers: Mapping[str, list[str]] = field(default_factory=dict)
    approval_ttl_s: int = 1800
    readonly: Mapping[str, list[str]] = field(default_factory=dict)
    """Namespace patterns where logs/describe/top are allowed, per channel id (``"*"``: any channel)."""
    default_cluster: str = "default"
    queue_depth: QueueDepth = lambda: 0
    clock: Callable[[], datetime] = _utcnow
    stale_after_s: float = 120.0

"""Answers of ``/aeth incidents``, ``status`` and ``stats``, and the App Home view, from store views (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from aetherius.store import IncidentView
from aetherius.store.views import ClusterView
from bot.blocks import MAX_BLOCKS, Block, clip, escape

MAX_LISTED = 20


def _line(i: IncidentView) -> str:
    where = f"{i.cluster}/{i.namespace}/{i.workload}"
    cause = f" · {i.category}" if i.category else ""
    return f"• #{i.id} *{escape(i.title)}* · {escape(where)}{cause} · {i.occurrences}× · {i.state}"


def incidents_text(open_incidents: Sequence[IncidentView]) -> str:
    if not open_incidents:
        return "No open incidents. :tada:"
    lines = [_line(i) for i in open_incidents[:MAX_LISTED]]
    more = len(open_incidents) - MAX_LISTED
    return "\n".join(["*Open incidents, newest first*", *lines] + ([f"…and {more} more"] if more > 0 else []))


def confirmation_rate(totals: Mapping[str, int]) -> float | None:
    """Share of 👍 among 👍, 👎 and corrections; None before any feedback."""
    votes = totals.get("thumbs_up", 0) + totals.get("thumbs_down", 0) + totals.get("correction", 0)
    return totals.get("thumbs_up", 0) / votes if votes else None


def stats_text(totals: Mapping[str, int]) -> str:
    rate = confirmation_rate(totals)
    shown = "no feedback yet" if rate is None else f"{rate:.0%} of diagnoses confirmed"
    return (
        f"*Feedback so far:* {shown} · :+1: {totals.get('thumbs_up', 0)} · :-1: {totals.get('thumbs_down', 0)}"
        f" · corrected {totals.get('correction', 0)}"
    )


def status_text(clusters: Sequence[ClusterView], now: datetime, stale_after_s: float, queue_depth: int) -> str:
    lines = ["*Status*"]
    for c in clusters:
        age = "never" if c.last_heartbeat is None else f"{(now - c.last_heartbeat).total_seconds():.0f}s ago"
        flag = " :warning: stale" if c.stale(now, stale_after_s) else ""
        lines.append(f"• {escape(c.name)} · heartbeat {age} · leader {escape(c.leader or '-')}{flag}")
    if not clusters:
        lines.append("• no cluster has reported yet")
    lines.append(f"• queue depth: {queue_depth}")
    return "\n".join(lines)


def home_view(
    open_incidents: Sequence[IncidentView], resolved: Sequence[IncidentView], totals: Mapping[str, int]
) -> dict[str, object]:
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Aetherius"}}]
    by_cluster: dict[str, list[IncidentView]] = defaultdict(list)
    for i in open_incidents:
        by_cluster[i.cluster].append(i)
    blocks.append(_section(f"*Open incidents* ({len(open_incidents)})" if open_incidents else "*No open incidents*"))
    for cluster, items in sorted(by_cluster.items()):
        blocks.append(_section(f"*{escape(cluster)}*\n" + "\n".join(_line(i) for i in items[:MAX_LISTED])))
    blocks.append({"type": "divider"})
    recent = "\n".join(_line(i) for i in resolved[:10]) or "none yet"
    blocks.append(_section(f"*Recently resolved*\n{recent}"))
    blocks.append({"type": "divider"})
    blocks.append(_section(stats_text(totals)))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}

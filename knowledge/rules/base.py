"""Shared vocabulary for rules: a Rule is a pure function ``Signals -> list[Finding]``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aetherius.diagnoses import Finding
from aetherius.signals import Container, Event, Signals
from aetherius.taxonomy import Category
from knowledge.redaction import redact_text

Rule = Callable[[Signals], list[Finding]]

RECENT_S = 3600.0
"""Events and terminations older than this no longer explain the present (events expire after ~1 h)."""

WAITING_IDLE = ("", "ContainerCreating", "PodInitializing")
PULL_REASONS = (
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "RegistryUnavailable",
    "SignatureValidationFailed",
    "ImageInspectError",
    "PullImageError",
)


def finding(rule: str, category: Category, weight: float, evidence: Iterable[str], **facts: Any) -> Finding:
    return Finding(
        rule=rule,
        category=category,
        weight=round(min(max(weight, 0.0), 1.0), 3),
        evidence=[e for e in evidence if e],
        facts={k: v for k, v in facts.items() if v is not None},
    )


def recent(event: Event) -> bool:
    return event.age_s is None or event.age_s <= RECENT_S


def subject_events(sig: Signals, *reasons: str, warning_only: bool = False) -> list[Event]:
    return [
        e
        for e in sig.events
        if e.about_subject
        and (not reasons or e.reason in reasons)
        and recent(e)
        and (not warning_only or e.type == "Warning")
    ]


def quote(text: str, limit: int = 220) -> str:
    """``text`` on one line, redacted, then cut to ``limit``. Redaction comes first: a token cut in half no longer
    has the shape that identifies it (``ghp_A1b2C3…``), and its first half would pass."""
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_evidence(event: Event) -> str:
    where = "" if event.about_subject else f" on {event.object_kind} {event.object_name}"
    times = f" (x{event.count})" if event.count > 1 else ""
    return f"event {event.reason}{where}{times}: {quote(event.message)}"


def crashed(c: Container) -> bool:
    """The container has died at least once recently, or is dead now with an error."""
    if c.state == "waiting" and c.reason == "CrashLoopBackOff":
        return True
    if c.state == "terminated" and c.exit_code not in (0, None):
        return True
    if c.last_exit_code is not None and c.restart_count > 0:
        return c.last_finished_age_s is None or c.last_finished_age_s <= RECENT_S
    return False


def termination(c: Container) -> tuple[str, int | None]:
    """(reason, exit code) of the most relevant termination: current if terminated, else the last one."""
    if c.state == "terminated":
        return c.reason, c.exit_code
    return c.last_reason, c.last_exit_code


def describe_termination(c: Container) -> str:
    reason, code = termination(c)
    if code is None and not reason:
        return ""
    when = "terminated" if c.state == "terminated" else "last terminated"
    ran = f" after {c.last_run_s:.0f}s" if c.last_run_s is not None else ""
    restarts = f", {c.restart_count} restarts" if c.restart_count else ""
    state = f", now {c.reason}" if c.state == "waiting" and c.reason else ""
    return f"container {c.name}: {when} {reason or 'unknown'} (exit {code}){ran}{restarts}{state}"

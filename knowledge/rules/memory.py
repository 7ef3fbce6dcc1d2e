"""Memory: the kernel OOM killer, inside the cgroup (OOMKilled) or node-wide (SystemOOM with exit 137 'Error').

An exit 137 alone is only SIGKILL: it is an OOM when the kernel said so, or the node logged a SystemOOM at the
time, or the working set reached the limit. A liveness kill or an eviction is also a 137 and is left to other rules.
"""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.quantities import format_bytes
from aetherius.signals import Container, Signals
from knowledge.rules.base import RECENT_S, describe_termination, event_evidence, finding, recent, termination


def _recent_termination(c: Container) -> bool:
    if c.state == "terminated" or (c.state == "waiting" and c.reason == "CrashLoopBackOff"):
        return True
    return c.last_finished_age_s is None or c.last_finished_age_s <= RECENT_S


def _usage(c: Container) -> str:
    if c.memory_peak is None:
        return ""
    if c.memory_limit:
        share = c.memory_peak / c.memory_limit
        return (
            f"container {c.name}: memory peaked at {format_bytes(c.memory_peak)} "
            f"of its {format_bytes(c.memory_limit)} limit ({share:.0%})"
        )
    return f"container {c.name}: memory peaked at {format_bytes(c.memory_peak)} (no limit)"


def killed_for_memory(sig: Signals) -> list[Finding]:
    out: list[Finding] = []
    node_ooms = [e for e in sig.events if e.reason in ("SystemOOM", "OOMKilling") and recent(e)]
    for c in sig.containers:
        reason, code = termination(c)
        if reason == "OOMKilled" or (c.reason == "OOMKilled" and c.state == "terminated"):
            if not _recent_termination(c):
                continue  # an old OOM, healthy since: the healthy rule speaks
            weight = 0.97 if c.restart_count >= 1 or c.state != "running" else 0.85
            out.append(
                finding(
                    "killed_for_memory",
                    "oom_killed",
                    weight,
                    [describe_termination(c), _usage(c)],
                    container=c.name,
                    memory_peak=c.memory_peak,
                    memory_limit=c.memory_limit,
                    exit_code=code,
                )
            )
            continue
        if code != 137 or not _recent_termination(c):
            continue
        if node_ooms:
            out.append(
                finding(
                    "node_oom_killer",
                    "oom_killed",
                    0.85,
                    [
                        describe_termination(c),
                        *(event_evidence(e) for e in node_ooms[:3]),
                        _usage(c),
                        _overcommit(c, sig),
                    ],
                    container=c.name,
                    node_oom=True,
                    memory_peak=c.memory_peak,
                    memory_request=c.memory_request,
                    memory_limit=c.memory_limit,
                    exit_code=code,
                )
            )
        elif c.memory_peak and c.memory_limit and c.memory_peak >= 0.93 * c.memory_limit:
            out.append(
                finding(
                    "memory_at_limit",
                    "oom_killed",
                    0.75,
                    [describe_termination(c), _usage(c)],
                    container=c.name,
                    memory_peak=c.memory_peak,
                    memory_limit=c.memory_limit,
                    exit_code=code,
                )
            )
    return out


def _overcommit(c: Container, sig: Signals) -> str:
    parts = []
    if c.memory_request and c.memory_peak and c.memory_peak > 1.5 * c.memory_request:
        parts.append(
            f"request {format_bytes(c.memory_request)} is far below the real peak {format_bytes(c.memory_peak)}"
        )
    if sig.node and sig.node.mem_avail_min is not None:
        parts.append(f"node MemAvailable fell to {format_bytes(sig.node.mem_avail_min)}")
    return f"node {sig.node_name}: " + "; ".join(parts) if parts else ""

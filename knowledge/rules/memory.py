"""Memory: the kernel OOM killer, inside the cgroup (OOMKilled) or node-wide (SystemOOM with exit 137 'Error').

An exit 137 alone is only SIGKILL: it is an OOM when the kernel said so, or the node logged a SystemOOM at the
time, or the working set reached the limit. A liveness kill or an eviction is also a 137 and is left to other rules.

The OOM killer may also take one process and leave the container running (cgroup v1, or v2 without
``memory.oom.group``): a pre-forking server loses a worker, logs "child exited on signal 9", and answers 502s while
restartCount stays 0. That is an OOM when the kernel counted OOM kills in the cgroup, or when workers die by SIGKILL
while the working set sits at the limit.
"""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.quantities import format_bytes
from aetherius.signals import Container, Signals
from knowledge.rules import patterns as p
from knowledge.rules.base import RECENT_S, describe_termination, event_evidence, finding, quote, recent, termination


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
    ooms = [e for e in sig.events if e.reason in ("SystemOOM", "OOMKilling") and recent(e)]
    # "Memory cgroup out of memory" is the kernel enforcing a cgroup's own limit; only the rest is the node running out
    cgroup_ooms = [e for e in ooms if "memory cgroup out of memory" in e.message.lower()]
    node_ooms = [e for e in ooms if e not in cgroup_ooms]
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
        elif cgroup_ooms:
            out.append(
                finding(
                    "cgroup_oom_killer",
                    "oom_killed",
                    0.9,
                    [describe_termination(c), *(event_evidence(e) for e in cgroup_ooms[:2]), _usage(c)],
                    container=c.name,
                    memory_peak=c.memory_peak,
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


def processes_killed_for_memory(sig: Signals) -> list[Finding]:
    """Workers of a running container killed by the OOM killer, the container itself never restarted."""
    out: list[Finding] = []
    for c in sig.containers:
        if c.state != "running" or c.init:
            continue
        # the running process's own log: kills logged only by a previous run say nothing about it
        current = dict.fromkeys(
            ln.text for ln in [*sig.log_errors, *sig.log_tail] if ln.container == c.name and not ln.previous
        )
        kills = [t for t in current if p.PROCESS_KILLED.search(t)]
        kernel = bool(c.oom_events and c.oom_events > 0)
        at_limit = bool(c.memory_peak and c.memory_limit and c.memory_peak >= 0.95 * c.memory_limit)
        if kernel:
            weight = 0.9 if kills or at_limit else 0.8
        elif len(kills) >= 2 and at_limit:
            weight = 0.8
        else:
            continue
        evidence = [
            f"container {c.name}: still running while {len(kills)} log lines report worker processes killed by SIGKILL"
            if kills
            else f"container {c.name}: still running while the kernel OOM-killed processes inside it"
        ]
        if kernel:
            evidence.append(f"kernel OOM kills in its cgroup: {c.oom_events:.0f} (container_oom_events_total)")
        if kills:
            evidence.append(f"log ({c.name}): {quote(kills[-1], 300)}")
        evidence.append(_usage(c))
        out.append(
            finding(
                "processes_killed_for_memory",
                "oom_killed",
                weight,
                evidence,
                container=c.name,
                child_oom=True,
                memory_peak=c.memory_peak,
                memory_limit=c.memory_limit,
                killed_processes=len(kills),
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

"""CPU throttling: the CFS quota stops the container most periods, so it is slow, not broken.

Throttling shows up as its consequences: deadlines exceeded, probes timing out, tasks taking many times longer.
It is the cause only when the container really uses its quota (usage near the limit) most of the time.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.quantities import format_cores
from aetherius.signals import Container, Signals
from knowledge.rules.base import finding, subject_events

_SLOW = re.compile(
    r"\b(?:took|done in|elapsed|succeeded in|duration|latency)\b.{0,20}?\d+(?:\.\d+)?\s*(?:s|sec|seconds|m)\b|"
    r"\bslow\b|\bdeadline\b|\btimed? ?out\b|\blagging\b|\bbehind\b",
    re.I,
)


def _throttled(c: Container) -> bool:
    if c.throttle_ratio is None or c.throttle_ratio < 0.25:
        return False
    if c.cpu_limit and c.cpu_usage_cores is not None:
        return c.cpu_usage_cores >= 0.6 * c.cpu_limit
    return c.throttle_ratio >= 0.5


def cpu_throttled(sig: Signals) -> list[Finding]:
    out: list[Finding] = []
    for c in sig.containers:
        if not _throttled(c) or c.throttle_ratio is None:
            continue
        ratio = c.throttle_ratio
        evidence = [f"container {c.name}: throttled in {ratio:.0%} of CFS periods"]
        if c.cpu_limit:
            used = f"{format_cores(c.cpu_usage_cores)} used of " if c.cpu_usage_cores is not None else ""
            evidence.append(f"container {c.name}: {used}a {format_cores(c.cpu_limit)} CPU limit")
        weight = 0.55 + 0.4 * min(1.0, (ratio - 0.25) / 0.5)
        deadline = sig.pod_reason == "DeadlineExceeded" or bool(subject_events(sig, "DeadlineExceeded"))
        probe_timeouts = [
            e for e in subject_events(sig, "Unhealthy") if "timed out" in e.message or "timeout" in e.message
        ]
        slow = [ln for ln in sig.log_tail if ln.container == c.name and _SLOW.search(ln.text)]
        if deadline:
            evidence.append(f"pod {sig.pod} killed: activeDeadlineSeconds exceeded while throttled")
            weight += 0.1
        if probe_timeouts:
            evidence.append(f"probes time out while throttled ({sum(e.count for e in probe_timeouts)} failures)")
            weight += 0.1
        if slow:
            evidence.append(f"log: {slow[-1].text.strip()[:200]}")
            weight += 0.05
        threads = _parallelism(c)
        if threads:
            evidence.append(threads)
        out.append(
            finding(
                "cpu_throttled",
                "cpu_throttling",
                weight,
                evidence,
                container=c.name,
                throttle_ratio=round(ratio, 3),
                cpu_limit_cores=c.cpu_limit,
                cpu_usage_cores=c.cpu_usage_cores,
            )
        )
    return out


_PARALLEL_ENV = re.compile(r"(?:THREADS|WORKERS|CONCURRENCY|GOMAXPROCS|PROCS|PARALLELISM|POOL_SIZE)$", re.I)


def _parallelism(c: Container) -> str:
    for name, value in c.env.items():
        if _PARALLEL_ENV.search(name) and value.isdigit() and c.cpu_limit and int(value) > 2 * c.cpu_limit:
            return f"container {c.name}: {name}={value} with a {format_cores(c.cpu_limit)} CPU limit"
    match = re.search(r"(?:--?(?:workers|concurrency|threads|processes)[= ]|-c\s)(\d+)", c.command)
    if match and c.cpu_limit and int(match.group(1)) > 2 * c.cpu_limit:
        return f"container {c.name}: {match.group(0).strip()} with a {format_cores(c.cpu_limit)} CPU limit"
    return ""

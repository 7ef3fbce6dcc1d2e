"""Failing probes: the kubelet restarts (liveness/startup) or unlists (readiness) a container that may be fine.

The probe is the cause when the application itself is healthy: it exits cleanly or by signal after a
``Killing ... failed liveness probe``, and its logs show no crash of its own. When the probe fails because the
process is crashing or throttled, other rules own the diagnosis and this one steps back.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules.base import event_evidence, finding, subject_events, termination

_KIND = re.compile(r"^(Liveness|Readiness|Startup) probe", re.I)


def _probe_kind(message: str) -> str:
    match = _KIND.search(message.strip())
    return match.group(1).lower() if match else ""


def probe_kills_container(sig: Signals) -> list[Finding]:
    unhealthy = subject_events(sig, "Unhealthy", "ProbeWarning")
    kills = [
        e for e in subject_events(sig, "Killing") if re.search(r"failed (?:liveness|startup) probe", e.message, re.I)
    ]
    restarting = [e for e in unhealthy if _probe_kind(e.message) in ("liveness", "startup")]
    if not restarting:
        return []
    container = next((c for c in sig.containers if c.name in " ".join(e.message for e in kills)), None)
    container = container or next((c for c in sig.containers if c.restart_count > 0), None)
    if container is None:
        return []
    reason, code = termination(container)
    killed = bool(kills) or code in (0, 137, 143) or reason == "Completed"
    if not killed and container.restart_count == 0:
        return []
    kind = _probe_kind(restarting[0].message)
    probe = next((pr for pr in container.probes if pr.kind == kind), None)
    weight = 0.88 if kills and code in (0, 137, 143, None) else 0.7 if killed else 0.5
    if container.throttle_ratio is not None and container.throttle_ratio >= 0.5:
        weight -= 0.35
    evidence = [event_evidence(max(restarting, key=lambda e: e.count))]
    evidence += [event_evidence(e) for e in kills[:1]]
    if probe is not None:
        what = probe.command or probe.path or probe.port
        evidence.append(
            f"container {container.name}: {kind} probe {probe.handler} {what[:80]} timeout={probe.timeout_s:g}s "
            f"period={probe.period_s:g}s failureThreshold={probe.failure_threshold}"
        )
    return [
        finding(
            "probe_kills_container",
            "probe_failure",
            weight,
            evidence,
            container=container.name,
            probe=kind,
            handler=probe.handler if probe else None,
            timeout_s=probe.timeout_s if probe else None,
            probe_message=restarting[0].message[:300],
            exit_code=code,
        )
    ]


def readiness_never_passes(sig: Signals) -> list[Finding]:
    if sig.deleting:
        return []
    failures = [e for e in subject_events(sig, "Unhealthy") if _probe_kind(e.message) == "readiness"]
    total = sum(e.count for e in failures)
    stuck = [c for c in sig.containers if c.state == "running" and not c.ready and not c.init]
    if total < 6 or not stuck:
        return []
    c = stuck[0]
    probe = next((pr for pr in c.probes if pr.kind == "readiness"), None)
    evidence = [event_evidence(max(failures, key=lambda e: e.count)), f"container {c.name}: running but not ready"]
    return [
        finding(
            "readiness_never_passes",
            "probe_failure",
            0.7,
            evidence,
            container=c.name,
            probe="readiness",
            handler=probe.handler if probe else None,
            timeout_s=probe.timeout_s if probe else None,
            probe_message=failures[0].message[:300],
        )
    ]

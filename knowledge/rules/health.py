"""Evidence that nothing is wrong: quiet is a diagnosis too.

A completed Job pod, a pod draining during a rolling update, a pod that OOMed hours ago and has been healthy
since, a pod that was created seconds ago: each gets an ``unknown`` finding so the engine can stay quiet.
"""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules.base import RECENT_S, WAITING_IDLE, crashed, finding, recent, subject_events

_BENIGN_WARNINGS = ("Unhealthy",)
_PERSISTENT_ERRORS = 5


def _warnings(sig: Signals) -> list[str]:
    return [e.reason for e in subject_events(sig, warning_only=True)]


def completed_successfully(sig: Signals) -> list[Finding]:
    main = [c for c in sig.containers if not c.init or c.sidecar]
    if sig.phase != "Succeeded" and not (main and all(c.state == "terminated" and c.exit_code == 0 for c in main)):
        return []
    if any(c.exit_code not in (0, None) for c in sig.containers):
        return []
    return [
        finding(
            "completed_successfully",
            "unknown",
            0.9,
            [f"pod {sig.pod}: phase {sig.phase or 'Succeeded'}, every container exited 0"],
        )
    ]


def draining_for_rollout(sig: Signals) -> list[Finding]:
    if not sig.deleting or any(crashed(c) for c in sig.containers):
        return []
    hard = [r for r in _warnings(sig) if r not in _BENIGN_WARNINGS]
    if hard:
        return []
    evidence = [f"pod {sig.pod}: being deleted (deletionTimestamp set), containers stopping gracefully"]
    scaling = [e for e in sig.events if e.reason == "ScalingReplicaSet"]
    if scaling:
        evidence.append(f"owner rolling out: {scaling[0].message}")
    return [finding("draining_for_rollout", "unknown", 0.85, evidence)]


def healthy_now(sig: Signals) -> list[Finding]:
    main = [c for c in sig.containers if not c.init or c.sidecar]
    if not main or sig.deleting or any(c.state != "running" or not c.ready for c in main):
        return []
    stale = all(
        c.restart_count == 0 or (c.last_finished_age_s is not None and c.last_finished_age_s > RECENT_S)
        for c in sig.containers
    )
    if not stale:
        return []
    if any(e.type == "Warning" and not e.about_subject and e.object_kind != "Node" and recent(e) for e in sig.events):
        return []  # the pod is fine, its owner or its claim is not (a stuck rollout, a failing controller)
    if sum(1 for ln in sig.log_errors if not ln.previous) >= _PERSISTENT_ERRORS:
        return []  # running and ready, yet failing at something over and over: not "healthy"
    warnings = subject_events(sig, warning_only=True)
    if sum(e.count for e in warnings if e.reason not in _BENIGN_WARNINGS) > 0 or sum(e.count for e in warnings) > 3:
        return []
    evidence = [f"pod {sig.pod}: all containers running and ready"]
    old = [c for c in sig.containers if c.restart_count]
    for c in old:
        age = (c.last_finished_age_s or 0) / 3600
        evidence.append(f"container {c.name}: last restart ({c.last_reason or 'unknown'}) was {age:.1f} h ago")
    return [finding("healthy_now", "unknown", 0.8, evidence)]


def just_created(sig: Signals) -> list[Finding]:
    if sig.phase != "Pending" or _warnings(sig):
        return []
    if any(c.state == "waiting" and c.reason not in WAITING_IDLE for c in sig.containers):
        return []
    if sig.conditions.get("PodScheduled") == "False" and sig.condition_reasons.get("PodScheduled") == "Unschedulable":
        return []
    return [finding("just_created", "unknown", 0.6, [f"pod {sig.pod}: Pending with no warning yet (starting up)"])]

"""The scheduler cannot place the pod: read *why* from its message, since a volume's zone, a taint for disk
pressure or an unbound claim each point somewhere else than "add nodes"."""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules.base import event_evidence, finding, quote, subject_events

_REASONS: list[tuple[str, re.Pattern[str]]] = [
    ("insufficient_cpu", re.compile(r"Insufficient cpu", re.I)),
    ("insufficient_memory", re.compile(r"Insufficient memory", re.I)),
    ("insufficient_resource", re.compile(r"Insufficient [\w./-]+", re.I)),
    ("too_many_pods", re.compile(r"Too many pods", re.I)),
    ("disk_pressure_taint", re.compile(r"disk-pressure", re.I)),
    ("taint", re.compile(r"untolerated taint|had taints? that the pod didn't tolerate|had taint", re.I)),
    (
        "affinity",
        re.compile(
            r"didn't match (?:Pod's )?node affinity|node\(s\) didn't match node selector|"
            r"didn't satisfy existing pods anti-affinity|didn't match pod (?:anti-)?affinity",
            re.I,
        ),
    ),
    ("topology_spread", re.compile(r"topology spread constraints", re.I)),
    ("unschedulable_nodes", re.compile(r"node\(s\) were unschedulable|node\(s\) had unschedulable", re.I)),
    (
        "volume_zone",
        re.compile(
            r"volume node affinity conflict|didn't find available persistent volumes to bind|"
            r"node\(s\) had no available volume zone",
            re.I,
        ),
    ),
    (
        "volume_unbound",
        re.compile(
            r"unbound immediate PersistentVolumeClaims|PreBind plugin \"?VolumeBinding|"
            r"binding volumes|persistentvolumeclaim \"[\w.-]+\" not found",
            re.I,
        ),
    ),
    ("quota", re.compile(r"exceeded quota|forbidden: exceeded", re.I)),
]


_SCARCE = re.compile(r"Insufficient ([\w./-]*\w)")


def scheduling_reasons(message: str) -> list[str]:
    return [name for name, pattern in _REASONS if pattern.search(message)]


def cannot_be_scheduled(sig: Signals) -> list[Finding]:
    if sig.node_name and sig.phase != "Pending":
        return []
    bound = bool(sig.node_name) and sig.conditions.get("PodScheduled") != "False"
    # A pod bound to a node was scheduled in the end (an autoscaler added the node): its FailedScheduling events
    # are history, and whatever keeps it Pending now (an image, a volume) is another rule's.
    events = subject_events(sig, "FailedCreate") if bound else subject_events(sig, "FailedScheduling", "FailedCreate")
    cond = sig.condition_messages.get("PodScheduled", "") if sig.conditions.get("PodScheduled") == "False" else ""
    message = " ".join([cond, *(e.message for e in events)])
    if not message.strip():
        return []
    reasons = scheduling_reasons(message)
    evidence = (
        [f"pod {sig.pod}: PodScheduled=False ({sig.condition_reasons.get('PodScheduled', '')}): {quote(cond)}"]
        if cond
        else []
    )
    evidence += [event_evidence(e) for e in events[:2]]
    pvc_trouble = [
        e
        for e in sig.events
        if e.object_kind == "PersistentVolumeClaim" and e.reason in ("ProvisioningFailed", "FailedBinding")
    ]
    evidence += [event_evidence(e) for e in pvc_trouble[:1]]
    # "Insufficient X" also matches cpu and memory; alone it is an extended resource (nvidia.com/gpu...), and a
    # shortage is what binds: the nodes an affinity or selector filtered out were never candidates.
    generic_only = "insufficient_resource" in reasons and not {"insufficient_cpu", "insufficient_memory"} & set(reasons)
    reason = next(
        (r for r in reasons if r != "insufficient_resource" or generic_only), reasons[0] if reasons else "unknown"
    )
    scarce = _SCARCE.search(message) if reason.startswith("insufficient") else None
    facts = {
        "scheduling_reason": reason,
        "claim": sig.claims[0].name if sig.claims else None,
        "scarce_resource": scarce.group(1) if scarce else None,
    }
    if "volume_unbound" in reasons or pvc_trouble:
        return [
            finding("volume_cannot_be_provisioned", "volume_mount", 0.9, evidence, **facts),
            finding("cannot_be_scheduled", "scheduling", 0.6, evidence, **facts),
        ]
    if "disk_pressure_taint" in reasons and len(reasons) <= 2:
        return [
            finding("node_disk_pressure_taint", "disk_pressure", 0.85, evidence, **facts),
            finding("cannot_be_scheduled", "scheduling", 0.6, evidence, **facts),
        ]
    if "volume_zone" in reasons:
        return [
            finding("cannot_be_scheduled", "scheduling", 0.88, evidence, **facts),
            finding("volume_topology", "volume_mount", 0.55, evidence, **facts),
        ]
    return [finding("cannot_be_scheduled", "scheduling", 0.93 if reasons else 0.75, evidence, **facts)]

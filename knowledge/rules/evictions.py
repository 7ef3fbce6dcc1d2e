"""Evictions and node pressure: the kubelet reclaims a resource, the pod pays for it.

An evicted pod shows exit 137 with reason Error: the cause is in the eviction message or the Node conditions,
not in the container.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.quantities import format_bytes
from aetherius.signals import Signals
from knowledge.rules.base import event_evidence, finding, quote, recent

# The kubelet's local-storage evictions: node filesystems, inodes, a container's ephemeral-storage limit and an
# emptyDir over its sizeLimit ("Usage of EmptyDir volume ... exceeds the limit ...").
_DISK = re.compile(
    r"ephemeral-storage|ephemeral (?:local )?storage|local storage|nodefs|imagefs|diskpressure|disk pressure|\bdisk\b|"
    r"inodes|emptydir",
    re.IGNORECASE,
)
_EMPTYDIR = re.compile(
    r"EmptyDir volume \"?(?P<volume>[\w.-]+)\"? exceeds the limit \"?(?P<limit>[\w.]+)", re.IGNORECASE
)
_MEMORY = re.compile(r"\bmemory\b|memorypressure", re.IGNORECASE)
_OWN_LIMIT = re.compile(r"\bexceed(?:s|ed)\b.{0,60}\blimit\b", re.IGNORECASE)
_PID = re.compile(r"\bpids?\b|pidpressure", re.IGNORECASE)


_SHUTDOWN = re.compile(r"node shutdown|node is shutting down|shutdown manager", re.I)


def _eviction_message(sig: Signals) -> str:
    parts = []
    if sig.pod_reason == "Evicted":
        parts.append(sig.pod_message)
    if sig.condition_reasons.get("DisruptionTarget") == "TerminationByKubelet":
        parts.append(sig.condition_messages.get("DisruptionTarget", ""))
    parts += [e.message for e in sig.events if e.about_subject and e.reason == "Evicted" and recent(e)]
    return " ".join(dict.fromkeys(p.strip() for p in parts if p.strip()))  # the same words arrive by three paths


def evicted_by_kubelet(sig: Signals) -> list[Finding]:
    message = _eviction_message(sig)
    if not message:
        return []
    evidence = [f"pod {sig.pod} evicted: {quote(message)}"]
    if _SHUTDOWN.search(message):
        # Graceful node shutdown (a spot/preemptible reclaim, a maintenance reboot): the kubelet stops the pods and
        # their controller starts them elsewhere. Nothing in the workload failed.
        node = f"node {sig.node_name} was shut down; the pod's controller replaces it on another node"
        return [finding("node_shutdown", "unknown", 0.7, [*evidence, node], node=sig.node_name or None)]
    if sig.node:
        pressure = [k for k, v in sig.node.conditions.items() if k.endswith("Pressure") and v == "True"]
        if pressure:
            evidence.append(f"node {sig.node.name}: {', '.join(pressure)}")
    node_events = [
        e
        for e in sig.events
        if e.object_kind == "Node"
        and recent(e)
        and e.reason
        in (
            "NodeHasDiskPressure",
            "EvictionThresholdMet",
            "FreeDiskSpaceFailed",
            "ImageGCFailed",
            "NodeHasInsufficientMemory",
        )
    ]
    evidence += [event_evidence(e) for e in node_events[:2]]
    fs = max((c.fs_usage_peak or 0 for c in sig.containers), default=0)
    if fs:
        evidence.append(f"container writable layer/logs peaked at {format_bytes(fs)}")
    if _DISK.search(message):
        lowered = message.lower()
        resource = "emptyDir" if "emptydir" in lowered else "ephemeral-storage" if "ephemeral" in lowered else "nodefs"
        empty_dir = _EMPTYDIR.search(message)
        return [
            finding(
                "evicted_for_disk",
                "disk_pressure",
                0.95,
                evidence,
                evicted_resource=resource,
                node=sig.node_name or None,
                emptydir_volume=empty_dir["volume"] if empty_dir else None,
                emptydir_limit=empty_dir["limit"] if empty_dir else None,
                own_limit=bool(_OWN_LIMIT.search(message)) and not empty_dir,  # the pod's limit, not the node's disk
            )
        ]
    if _MEMORY.search(message):
        return [
            finding(
                "evicted_for_memory",
                "oom_killed",
                0.85,
                evidence,
                evicted_resource="memory",
                node=sig.node_name or None,
            )
        ]
    if _PID.search(message):
        return [finding("evicted_for_pids", "crash_loop", 0.4, evidence, evicted_resource="pids")]
    return [finding("evicted_by_kubelet", "disk_pressure", 0.35, evidence, node=sig.node_name or None)]


def node_under_disk_pressure(sig: Signals) -> list[Finding]:
    """The node is out of disk now and the pod is failing on it (not evicted yet, or cannot start)."""
    if sig.node is None or sig.pod_reason == "Evicted":
        return []
    troubled = any(
        c.state == "waiting" and c.reason not in ("PodInitializing",) or c.state == "terminated" for c in sig.containers
    ) or sig.phase in ("Pending", "Failed")
    disk = sig.node.conditions.get("DiskPressure") == "True"
    ratio = sig.node.fs_avail_ratio_min
    if not troubled or not (disk or (ratio is not None and ratio < 0.05)):
        return []
    evidence = [f"node {sig.node.name}: DiskPressure={sig.node.conditions.get('DiskPressure', '?')}"]
    if ratio is not None:
        evidence.append(f"node filesystem down to {ratio:.0%} free")
    return [
        finding(
            "node_under_disk_pressure", "disk_pressure", 0.7, evidence, node=sig.node.name, evicted_resource="nodefs"
        )
    ]


def volume_nearly_full(sig: Signals) -> list[Finding]:
    full = [c for c in sig.claims if c.used_ratio is not None and c.used_ratio >= 0.95]
    if not full:
        return []
    troubled = any(c.restart_count or c.state != "running" or not c.ready for c in sig.containers if not c.init)
    weight = 0.75 if troubled else 0.5
    evidence = [f"PVC {c.name}: {c.used_ratio:.0%} used" for c in full if c.used_ratio is not None]
    return [
        finding(
            "volume_nearly_full", "disk_pressure", weight, evidence, claim=full[0].name, used_ratio=full[0].used_ratio
        )
    ]

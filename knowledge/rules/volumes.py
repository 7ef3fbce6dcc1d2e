"""Volumes that cannot be attached or mounted: the pod is scheduled but stuck in ContainerCreating."""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules import patterns as p
from knowledge.rules.base import event_evidence, finding, subject_events
from knowledge.rules.configs import missing_reference

_VOLUME = re.compile(r"volume \\?\"(?P<volume>[\w.-]+)\\?\"", re.I)
_DRIVER = re.compile(r"driver name (?P<driver>[\w.-]+)|(?P<csi>[\w-]+\.csi\.[\w.-]+|[\w.-]+\.csi\.[\w-]+)", re.I)


def volume_cannot_be_mounted(sig: Signals) -> list[Finding]:
    events = subject_events(sig, "FailedMount", "FailedAttachVolume", "FailedMapVolume", warning_only=False)
    events = [
        e
        for e in events
        if p.MOUNT_FAILURE.search(e.message)
        or p.MOUNT_REFERENCE_MISSING.search(e.message)
        or e.reason in ("FailedAttachVolume", "FailedMount")
    ]
    pvc_events = [
        e for e in sig.events if e.object_kind == "PersistentVolumeClaim" and e.reason == "ProvisioningFailed"
    ]
    stuck = any(
        c.state == "waiting" and c.reason in ("ContainerCreating", "PodInitializing", "") for c in sig.containers
    )
    stuck = stuck or sig.phase == "Pending"
    if not stuck or not (events or pvc_events):
        return []
    text = " ".join(e.message for e in events)
    evidence = [event_evidence(e) for e in sorted(events, key=lambda e: -e.count)[:2]]
    evidence += [event_evidence(e) for e in pvc_events[:1]]
    missing = missing_reference(text)
    if missing:
        return [finding("mounted_reference_missing", "config_error", 0.9, evidence, **missing)]
    volume = _VOLUME.search(text)
    driver = _DRIVER.search(text)
    claim = next((c.name for c in sig.claims), None)
    pending = [c for c in sig.claims if c.phase in ("Pending", "Lost", "Missing")]
    if pending and pending[0].phase == "Missing":  # absent from the evidence: deleted, or simply not captured
        evidence.append(f"PVC {pending[0].name} is not in the snapshot (deleted, or not captured)")
    elif pending:
        evidence.append(f"PVC {pending[0].name} is {pending[0].phase} (storageClass {pending[0].storage_class or '-'})")
    return [
        finding(
            "volume_cannot_be_mounted",
            "volume_mount",
            0.9 if events else 0.8,
            evidence,
            volume=volume.group("volume") if volume else None,
            claim=claim,
            driver=(driver.group("driver") or driver.group("csi")) if driver else None,
            multi_attach="Multi-Attach" in text or "still being used" in text or "in use" in text,
            node=sig.node_name or None,
        )
    ]

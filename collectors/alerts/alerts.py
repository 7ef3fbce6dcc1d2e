"""Alertmanager webhook payloads (version 4) → alert records the pipeline can dedupe and capture.

Pure: no HTTP here. A malformed payload is one ``MalformedAlert`` naming what is wrong; an alert we have no
mapping for is still accepted (family ``other``) so nothing an operator routed to us is dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aetherius.errors import PermanentError
from aetherius.quantities import parse_time


class MalformedAlert(PermanentError):
    """The webhook body is not an Alertmanager version 4 payload."""


# kube-prometheus / kubernetes-mixin alert names → coarse failure family (the dedup fingerprint's last part).
FAMILIES: dict[str, str] = {
    "KubePodCrashLooping": "crash",
    "KubePodNotReady": "probe",
    "KubeContainerWaiting": "crash",
    "KubeDeploymentReplicasMismatch": "crash",
    "KubeStatefulSetReplicasMismatch": "crash",
    "KubeDaemonSetRolloutStuck": "crash",
    "KubeJobFailed": "crash",
    "KubeJobNotCompleted": "crash",
    "CPUThrottlingHigh": "cpu",
    "KubeCPUOvercommit": "scheduling",
    "KubeMemoryOvercommit": "scheduling",
    "KubeMemoryOverutilization": "oom",
    "KubeContainerOOMKilled": "oom",
    "KubePodOOMKilled": "oom",
    "ContainerOOMKilled": "oom",
    "KubePersistentVolumeFillingUp": "disk",
    "KubePersistentVolumeInodesFillingUp": "disk",
    "KubePersistentVolumeErrors": "mount",
    "NodeFilesystemSpaceFillingUp": "disk",
    "NodeFilesystemAlmostOutOfSpace": "disk",
    "NodeFilesystemFilesFillingUp": "disk",
    "KubeNodeNotReady": "node",
    "KubeNodeUnreachable": "node",
    "KubeNodePressure": "node",
    "KubeletDown": "node",
    "KubePodPending": "scheduling",
    "KubeClientErrors": "network",
    "CoreDNSDown": "network",
    "CoreDNSErrorsHigh": "network",
}
_MEMORY_WORDS = re.compile(r"memory|oom", re.IGNORECASE)
_RS_HASH = re.compile(r"^(?P<deploy>.+)-[a-z0-9]{6,10}$")


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    name: str
    family: str
    fingerprint: str
    cluster: str
    namespace: str
    pod: str
    workload: str  # "Kind/name" best effort, "" when unknown
    severity: str
    summary: str
    starts_at: datetime | None
    ends_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        """Same alert, same firing period → same key, whatever Alertmanager's repeat_interval resends."""
        start = self.starts_at.isoformat() if self.starts_at else ""
        return f"alertmanager:{self.fingerprint}:{start}:{self.status}"


def parse_payload(body: bytes, *, default_cluster: str) -> list[Alert]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise MalformedAlert(f"webhook body is not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise MalformedAlert("webhook body must be a JSON object")
    if str(doc.get("version", "")) != "4":
        raise MalformedAlert(f"unsupported webhook version {doc.get('version')!r}; Alertmanager sends version 4")
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise MalformedAlert("webhook payload has no 'alerts' list")
    common = _labels(doc.get("commonLabels"))
    return [_alert(a, i, common, default_cluster) for i, a in enumerate(alerts)]


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _alert(raw: Any, index: int, common: dict[str, str], default_cluster: str) -> Alert:
    if not isinstance(raw, dict):
        raise MalformedAlert(f"alerts[{index}] is not an object")
    labels = {**common, **_labels(raw.get("labels"))}
    name = labels.get("alertname", "")
    if not name:
        raise MalformedAlert(f"alerts[{index}] has no alertname label")
    status = str(raw.get("status") or "")
    if status not in ("firing", "resolved"):
        raise MalformedAlert(f"alerts[{index}] ({name}) has status {status!r}; expected firing or resolved")
    annotations = _labels(raw.get("annotations"))
    family = FAMILIES.get(name, "")
    if not family:
        family = "oom" if _MEMORY_WORDS.search(name) else "other"
    return Alert(
        status=status,
        name=name,
        family=family,
        fingerprint=str(raw.get("fingerprint") or f"{name}:{sorted(labels.items())}"),
        cluster=labels.get("cluster") or labels.get("k8s_cluster") or default_cluster,
        namespace=labels.get("namespace") or labels.get("exported_namespace") or "",
        pod=labels.get("pod") or labels.get("exported_pod") or "",
        workload=_workload(labels),
        severity=labels.get("severity", "warning"),
        summary=annotations.get("summary") or annotations.get("description") or annotations.get("message") or name,
        starts_at=_time(raw.get("startsAt")),
        ends_at=_time(raw.get("endsAt")) if status == "resolved" else None,
        labels=labels,
    )


def _workload(labels: dict[str, str]) -> str:
    for key, kind in (
        ("deployment", "Deployment"),
        ("statefulset", "StatefulSet"),
        ("daemonset", "DaemonSet"),
        ("job_name", "Job"),
        ("cronjob", "CronJob"),
        ("persistentvolumeclaim", "PersistentVolumeClaim"),
    ):
        if labels.get(key):
            return f"{kind}/{labels[key]}"
    if labels.get("replicaset"):
        match = _RS_HASH.match(labels["replicaset"])
        return f"Deployment/{match.group('deploy')}" if match else f"ReplicaSet/{labels['replicaset']}"
    if labels.get("node") or labels.get("instance"):
        return f"Node/{labels.get('node') or labels['instance']}"
    return ""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    return parse_time(value)

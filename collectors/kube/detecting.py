"""Failure detection: one Pod, Event or Node in, a ``Detection`` or ``None`` out.

Pure (the caller passes ``now``), so every rule and every noise case is unit-tested without a cluster. The rules
look at the failure *mechanism* Kubernetes reports (waiting and terminated reasons, pod phase, Warning event
reasons, node conditions), never at application text. What stays quiet on purpose:

- Normal events of a healthy rollout (Scheduled, Pulled, Created, Started, Killing, SuccessfulCreate...);
- one readiness-probe failure (a blip), until it repeats ``readiness_repeats`` times;
- a completed Job pod, a pod being deleted, a container still creating;
- a termination (OOMKilled, Error) or an event older than the policy's window: history, not an incident.

The ``family`` is the coarse failure family the dedup fingerprint is built from, so the ``BackOff`` event and
the ``CrashLoopBackOff`` status of one pod are the same incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aetherius.snapshots import KubeObject
from collectors.kube.owners import workload_of, workload_of_owner

FAMILIES = ("crash", "image", "config", "oom", "eviction", "scheduling", "mount", "probe", "node")

WAITING_FAMILIES = {
    "CrashLoopBackOff": "crash",
    "ImagePullBackOff": "image",
    "ErrImagePull": "image",
    "ErrImageNeverPull": "image",
    "InvalidImageName": "image",
    "CreateContainerConfigError": "config",
    "CreateContainerError": "config",
    "RunContainerError": "config",
}
FAILED_POD_FAMILIES = {
    "Evicted": "eviction",
    "NodeLost": "node",
    "Shutdown": "node",
    "Terminated": "node",
    "NodeShutdown": "node",
    "OutOfcpu": "scheduling",
    "OutOfmemory": "scheduling",
    "OutOfpods": "scheduling",
    "NodeAffinity": "scheduling",
    "UnexpectedAdmissionError": "scheduling",
}
WARNING_EVENT_FAMILIES = {
    "FailedScheduling": "scheduling",
    "FailedMount": "mount",
    "FailedAttachVolume": "mount",
    "FailedMapVolume": "mount",
    "FailedCreate": "config",
    "Evicted": "eviction",
    "ErrImageNeverPull": "image",
    "InspectFailed": "image",
    "EvictionThresholdMet": "node",
}
NODE_EVENT_REASONS = {"NodeNotReady", "NodeHasDiskPressure", "NodeHasInsufficientMemory", "NodeHasInsufficientPID"}
"""Node trouble the node controller and kubelet report as *Normal* events."""
NODE_PRESSURE = ("DiskPressure", "MemoryPressure", "PIDPressure", "NetworkUnavailable")
_FAMILY_ORDER = {family: i for i, family in enumerate(("config", "image", "oom", "crash"))}


@dataclass(frozen=True)
class Policy:
    recent_s: float = 600.0
    """A termination finished longer ago than this is history."""
    event_max_age_s: float = 900.0
    """An event last seen longer ago than this is history."""
    readiness_repeats: int = 3
    """Readiness failures open an incident only from this count on."""


@dataclass(frozen=True, slots=True)
class Detection:
    cluster: str
    namespace: str
    pod: str
    workload_kind: str
    workload_name: str
    family: str
    reason: str
    message: str
    seen_at: datetime
    source: str
    """``pod``, ``event`` or ``node``: what kind of object fired the rule."""
    subject: str
    """The object the failure is about: ``Pod/ns/name``, ``Node/name``, ``ReplicaSet/ns/name``."""
    container: str = ""
    resource_version: str = ""
    dedup_key: str = field(init=False)
    """The incident fingerprint: one workload, one failure family, in one cluster."""

    def __post_init__(self) -> None:
        key = f"{self.cluster}/{self.namespace}/{self.workload_kind}/{self.workload_name}/{self.family}"
        object.__setattr__(self, "dedup_key", key)


def detect(
    obj: KubeObject, *, cluster: str, now: datetime, policy: Policy = Policy(), pod: KubeObject | None = None
) -> Detection | None:
    """Dispatch on ``kind``; ``pod`` is the subject pod of an event when the caller has it (for the workload)."""
    kind = obj.get("kind")
    if kind == "Pod":
        return detect_pod(obj, cluster=cluster, now=now, policy=policy)
    if kind == "Event":
        return detect_event(obj, cluster=cluster, now=now, policy=policy, pod=pod)
    if kind == "Node":
        return detect_node(obj, cluster=cluster, now=now)
    return None


def detect_pod(pod: KubeObject, *, cluster: str, now: datetime, policy: Policy = Policy()) -> Detection | None:
    meta, status = _dict(pod.get("metadata")), _dict(pod.get("status"))
    phase, reason = str(status.get("phase") or ""), str(status.get("reason") or "")
    if phase == "Succeeded" or meta.get("deletionTimestamp"):
        return None
    found: tuple[str, str, str, str] | None = None  # family, reason, message, container
    if phase == "Failed" and reason in FAILED_POD_FAMILIES:
        found = (FAILED_POD_FAMILIES[reason], reason, str(status.get("message") or ""), "")
    else:
        candidates = [c for s in _statuses(status) if (c := _container_failure(s, now, policy))]
        candidates.sort(key=lambda c: _FAMILY_ORDER.get(c[0], 9))
        found = candidates[0] if candidates else _unschedulable(status)
    if found is None:
        return None
    family, why, message, container = found
    kind, name = workload_of(pod)
    return Detection(
        cluster, str(meta.get("namespace") or ""), str(meta.get("name") or ""), kind, name, family, why, message,
        now, "pod", f"Pod/{meta.get('namespace', '')}/{meta.get('name', '')}", container,
        str(meta.get("resourceVersion") or ""),
    )  # fmt: skip


def _container_failure(status: dict[str, Any], now: datetime, policy: Policy) -> tuple[str, str, str, str] | None:
    name = str(status.get("name") or "")
    state, last = _dict(status.get("state")), _dict(_dict(status.get("lastState")).get("terminated"))
    waiting = _dict(state.get("waiting"))
    reason = str(waiting.get("reason") or "")
    if reason in WAITING_FAMILIES:
        family = WAITING_FAMILIES[reason]
        if reason == "CrashLoopBackOff" and last.get("reason") == "OOMKilled":
            family = "oom"
        return family, reason, str(waiting.get("message") or ""), name
    terminated = _dict(state.get("terminated"))
    for ended in (terminated, last):
        why, code = str(ended.get("reason") or ""), ended.get("exitCode")
        if not ended or not _recent(ended.get("finishedAt"), now, policy.recent_s):
            continue
        if why == "OOMKilled":
            return "oom", why, f"exit code {code}", name
        if ended is terminated and code not in (0, None):  # a run that ended in failure and did not restart
            return "crash", why or "Error", f"exit code {code}", name
    return None


def _unschedulable(status: dict[str, Any]) -> tuple[str, str, str, str] | None:
    if status.get("phase") != "Pending":
        return None
    for cond in status.get("conditions") or []:
        if (cond.get("type"), cond.get("status"), cond.get("reason")) == ("PodScheduled", "False", "Unschedulable"):
            return "scheduling", "Unschedulable", str(cond.get("message") or ""), ""
    return None


def detect_event(
    event: KubeObject, *, cluster: str, now: datetime, policy: Policy = Policy(), pod: KubeObject | None = None
) -> Detection | None:
    """A v1 Event (involvedObject/message/count) or an events.k8s.io/v1 Event (regarding/note/series)."""
    about = _dict(event.get("involvedObject") or event.get("regarding"))
    reason, kind = str(event.get("reason") or ""), str(about.get("kind") or "")
    message = str(event.get("message") or event.get("note") or "")
    seen = last_seen(event)
    if seen is None or (now - seen).total_seconds() > policy.event_max_age_s:
        return None
    family = _event_family(reason, str(event.get("type") or ""), message, _count(event), policy)
    if family is None:
        return None
    name, namespace = str(about.get("name") or ""), str(about.get("namespace") or "")
    if kind == "Pod":
        workload = workload_of(pod) if pod is not None else ("Pod", name)
    else:
        workload = workload_of_owner(kind, name)
    subject = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    meta = _dict(event.get("metadata"))
    return Detection(
        cluster, namespace, name if kind == "Pod" else "", workload[0], workload[1], family, reason, message,
        seen, "event", subject, "", str(meta.get("resourceVersion") or ""),
    )  # fmt: skip


def _event_family(reason: str, type_: str, message: str, count: int, policy: Policy) -> str | None:
    if reason in NODE_EVENT_REASONS:
        return "node"
    if type_ != "Warning":
        return None
    text = message.lower()
    if reason == "Unhealthy":
        if text.startswith(("liveness probe", "startup probe")):
            return "probe"
        if text.startswith("readiness probe") and count >= policy.readiness_repeats:
            return "probe"
        return None
    if reason == "BackOff":
        return "image" if "pulling image" in text else "crash"
    if reason == "Failed":
        if "image" in text or "pull" in text:
            return "image"
        if "configmap" in text or "secret" in text or "couldn't find key" in text:
            return "config"
        return None
    return WARNING_EVENT_FAMILIES.get(reason)


def detect_node(node: KubeObject, *, cluster: str, now: datetime) -> Detection | None:
    meta = _dict(node.get("metadata"))
    name = str(meta.get("name") or "")
    raw = _dict(node.get("status")).get("conditions") or []
    conditions = {str(c.get("type")): c for c in raw if isinstance(c, dict)}
    ready = conditions.get("Ready")
    found: tuple[str, str] | None = None
    if ready is not None and ready.get("status") in ("False", "Unknown"):
        found = ("NodeNotReady", str(ready.get("message") or ready.get("reason") or ""))
    else:
        pressed = [conditions[t] for t in NODE_PRESSURE if conditions.get(t, {}).get("status") == "True"]
        if pressed:
            found = (str(pressed[0].get("type")), str(pressed[0].get("message") or pressed[0].get("reason") or ""))
    if found is None:
        return None
    return Detection(cluster, "", "", "Node", name, "node", found[0], found[1], now, "node", f"Node/{name}", "",
                     str(meta.get("resourceVersion") or ""))  # fmt: skip


def is_healthy(obj: KubeObject) -> bool:
    """A pod that is Ready (or finished well), a node that is Ready without pressure: recovered."""
    status = _dict(obj.get("status"))
    conditions = {str(c.get("type")): c.get("status") for c in status.get("conditions") or [] if isinstance(c, dict)}
    if obj.get("kind") == "Node":
        return conditions.get("Ready") == "True" and not any(conditions.get(t) == "True" for t in NODE_PRESSURE)
    phase = status.get("phase")
    return phase == "Succeeded" or (phase == "Running" and conditions.get("Ready") == "True")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _recent(value: Any, now: datetime, window_s: float) -> bool:
    when = parse_time(value)
    return when is not None and (now - when).total_seconds() <= window_s


def last_seen(event: KubeObject) -> datetime | None:
    """When an event (either API) last happened."""
    series = _dict(event.get("series"))
    candidates = (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("deprecatedLastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        _dict(event.get("metadata")).get("creationTimestamp"),
    )
    for value in candidates:
        when = parse_time(value)
        if when is not None:
            return when
    return None


def _count(event: KubeObject) -> int:
    series = _dict(event.get("series"))
    for value in (series.get("count"), event.get("count"), event.get("deprecatedCount")):
        if isinstance(value, int) and value > 0:
            return value
    return 1


def _statuses(status: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("initContainerStatuses", "containerStatuses")
    return [s for key in keys for s in status.get(key) or [] if isinstance(s, dict)]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

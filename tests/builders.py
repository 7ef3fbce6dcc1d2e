"""Small builders for Kubernetes objects in tests: only the fields a test cares about, the API's shape otherwise."""

from __future__ import annotations

from typing import Any

CAPTURED = "2025-03-02T10:15:00Z"


def pod(
    name: str = "api-7d9f8c6b5-x2k4q",
    namespace: str = "shop",
    *,
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    node: str = "worker-1",
    owner: tuple[str, str] | None = ("ReplicaSet", "api-7d9f8c6b5"),
    conditions: list[dict[str, Any]] | None = None,
    **status: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": "11111111-2222-3333-4444-555555555555"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}]
    spec: dict[str, Any] = {
        "containers": containers or [container()],
        "nodeName": node,
        "restartPolicy": "Always",
        "serviceAccountName": "api",
    }
    if init_containers:
        spec["initContainers"] = init_containers
    body: dict[str, Any] = {"phase": phase, "conditions": conditions or [], **status}
    body["containerStatuses"] = statuses if statuses is not None else [running()]
    if init_statuses:
        body["initContainerStatuses"] = init_statuses
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": body}


def container(name: str = "api", *, memory: str = "256Mi", cpu: str = "500m", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"registry.example.com/{name}:1.0",
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": memory, "cpu": cpu}, "requests": {"memory": memory, "cpu": "100m"}},
        **extra,
    }


def running(
    name: str = "api", *, restarts: int = 0, ready: bool = True, last: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": "2025-03-02T10:10:00Z"}},
        "lastState": {"terminated": last} if last else {},
    }


def crashlooping(
    name: str = "api",
    *,
    exit_code: int = 1,
    reason: str = "Error",
    restarts: int = 5,
    finished: str = "2025-03-02T10:14:00Z",
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "started": False,
        "state": {
            "waiting": {"reason": "CrashLoopBackOff", "message": f"back-off 5m0s restarting failed container={name}"}
        },
        "lastState": {
            "terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": "2025-03-02T10:13:30Z",
                "finishedAt": finished,
            }
        },
    }


def waiting(name: str = "api", reason: str = "ContainerCreating", message: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason, "message": message}},
        "lastState": {},
    }


def event(
    reason: str,
    message: str,
    *,
    type: str = "Warning",
    count: int = 1,
    kind: str = "Pod",
    name: str = "api-7d9f8c6b5-x2k4q",
    namespace: str = "shop",
    last: str = "2025-03-02T10:14:30Z",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.17a", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type,
        "count": count,
        "firstTimestamp": "2025-03-02T10:00:00Z",
        "lastTimestamp": last,
    }


def events_v1(
    reason: str, note: str, *, count: int = 1, name: str = "api-7d9f8c6b5-x2k4q", namespace: str = "shop"
) -> dict[str, Any]:
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.18b", "namespace": namespace},
        "regarding": {"kind": "Pod", "name": name, "namespace": namespace},
        "reason": reason,
        "note": note,
        "type": "Warning",
        "eventTime": "2025-03-02T10:01:00.000000Z",
        "series": {"count": count, "lastObservedTime": "2025-03-02T10:14:00.000000Z"},
        "reportingController": "kubelet",
    }


def node(name: str = "worker-1", **conditions: str) -> dict[str, Any]:
    conds = [{"type": "Ready", "status": "True"}] + [{"type": k, "status": v} for k, v in conditions.items()]
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"conditions": conds}}


def log(text: str, *, container: str = "api", previous: bool = True) -> dict[str, Any]:
    return {
        "namespace": "shop",
        "pod": "api-7d9f8c6b5-x2k4q",
        "container": container,
        "previous": previous,
        "text": text,
    }


def series(
    name: str, values: list[float], *, step: float = 30.0, start: float = 1740909000.0, **labels: str
) -> dict[str, Any]:
    metric = {"__name__": name, "namespace": "shop", "pod": "api-7d9f8c6b5-x2k4q", **labels}
    return {"metric": metric, "values": [[start + i * step, str(v)] for i, v in enumerate(values)]}


def snapshot(
    subject: dict[str, Any],
    *others: dict[str, Any],
    logs: list[dict[str, Any]] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "aetherius.dev/v1",
        "kind": "Snapshot",
        "metadata": {"name": subject["metadata"]["name"], "cluster": "test", "capturedAt": CAPTURED},
        "objects": [subject, *others],
        "logs": logs or [],
        "metrics": metrics or [],
    }

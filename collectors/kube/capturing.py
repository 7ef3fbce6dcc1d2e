"""Capture a Snapshot of one pod through the API: the evidence bundle of SNAPSHOT.md.

The pod comes first and is the only thing that must succeed: deleted → ``NotFound``, forbidden → ``AccessDenied``,
API down → ``ApiUnavailable``. Everything else is optional evidence, and a capture on a half-permitted or
struggling cluster is still worth having: what could not be read (forbidden node, 500 on a log, a ConfigMap that
does not exist — itself a clue) is listed in ``metadata.skipped`` instead of failing the capture.

Order of ``objects``: Pod, its events, Node, the node's recent events, owners (ReplicaSet, Deployment...), sibling
ReplicaSets (rollout history), PVCs, PVs, StorageClasses, ConfigMaps (values blanked, keys kept). Logs: the
current tail of every container that ran, and the previous run's tail when it restarted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from aetherius.errors import AccessDenied, AetheriusError, ApiRejected, ApiUnavailable, NotFound
from aetherius.snapshots import KubeObject, LogExcerpt, MetricSeries, Snapshot, SnapshotMeta
from collectors.kube.clients import ClusterReader
from collectors.kube.detecting import Detection, last_seen
from collectors.kube.responses import describe
from collectors.prometheus import pod_queries

OPTIONAL_ERRORS = (AccessDenied, NotFound, ApiUnavailable, ApiRejected)
NODE_EVENTS = 20
SIBLING_REPLICASETS = 5


class HandOver(Protocol):
    """Takes an incident onward (store + enqueue): the snapshot, or why there is none."""

    def __call__(self, detection: Detection, snapshot: Snapshot | None, problem: str | None) -> None: ...


class MetricsSource(Protocol):
    """A Prometheus-compatible range query; failures raise an ``AetheriusError``."""

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, Any]]: ...


def capture(
    reader: ClusterReader,
    namespace: str,
    pod_name: str,
    *,
    cluster: str,
    prometheus: MetricsSource | None = None,
    tail_lines: int = 400,
    limit_bytes: int = 2 * 1024 * 1024,
    metrics_window_s: float = 3600.0,
    metrics_step_s: float = 30.0,
    now: Callable[[], datetime] | None = None,
) -> Snapshot:
    captured_at = (now or (lambda: datetime.now(UTC)))()
    try:
        pod = reader.get_pod(namespace, pod_name)
    except NotFound:
        raise NotFound(
            f"pod {namespace}/{pod_name} not found: it was deleted before it could be captured, or the name is wrong"
        ) from None
    skipped: list[str] = []
    objects: list[KubeObject] = [pod]
    spec = pod.get("spec") or {}

    events = reader.list_pod_events(namespace, pod_name)
    skipped += events.skipped
    objects += sorted(events.objects, key=_event_time)

    node_name = str(spec.get("nodeName") or "")
    if node_name:
        objects += _one(skipped, f"nodes/{node_name}", partial(reader.get_node, node_name))
        node_events = reader.list_pod_events("", node_name, kind="Node")
        skipped += node_events.skipped
        objects += sorted(node_events.objects, key=_event_time)[-NODE_EVENTS:]

    owners = reader.get_owner_chain(pod)
    skipped += owners.skipped
    objects += owners.objects
    objects += _sibling_replicasets(reader, namespace, owners.objects, skipped)
    objects += _storage(reader, namespace, spec, skipped, pod_name)
    for name in _config_maps(spec):
        found = _one(skipped, f"configmaps/{name}", partial(reader.get, "configmaps", name, namespace))
        objects += [_blank(config_map) for config_map in found]
    policies = reader.list_network_policies(namespace)  # a cause that sits in another object: egress locked down
    skipped += policies.skipped
    objects += policies.objects

    logs = _logs(reader, pod, tail_lines, limit_bytes, skipped)
    metrics: list[MetricSeries] = []
    if prometheus is not None:
        end = captured_at.timestamp()
        for promql in pod_queries(namespace, pod_name, node_name):
            try:
                results = prometheus.query_range(promql, end - metrics_window_s, end, metrics_step_s)
            except AetheriusError as err:
                skipped.append(f"metrics {promql.split('{')[0]}: {err}")
                continue
            metrics += [s for r in results if (s := _series(r)) is not None]

    meta = SnapshotMeta.model_validate(
        {"name": pod_name, "cluster": cluster, "capturedAt": captured_at, "namespace": namespace, "skipped": skipped}
    )
    return Snapshot(metadata=meta, objects=objects, logs=logs, metrics=metrics)


class CapturingSink:
    """An ``IncidentSink`` that captures the pod's Snapshot at detection time, then hands the incident over.

    A pod already gone, forbidden or unreachable still hands the incident over, with the reason instead of a
    snapshot: the incident is real even when its evidence is not available. Node-level detections have no pod.
    """

    def __init__(
        self,
        reader: ClusterReader,
        hand_over: HandOver,
        *,
        prometheus: MetricsSource | None = None,
        tail_lines: int = 400,
    ) -> None:
        self.reader = reader
        self.hand_over = hand_over
        self.prometheus = prometheus
        self.tail_lines = tail_lines

    def __call__(self, detection: Detection) -> None:
        snapshot: Snapshot | None = None
        problem: str | None = None
        if detection.pod:
            try:
                snapshot = capture(
                    self.reader, detection.namespace, detection.pod, cluster=detection.cluster,
                    prometheus=self.prometheus, tail_lines=self.tail_lines,
                )  # fmt: skip
            except (NotFound, AccessDenied, ApiUnavailable, ApiRejected) as err:
                problem = str(err)
        self.hand_over(detection, snapshot, problem)


def _one(skipped: list[str], what: str, read: Callable[[], KubeObject]) -> list[KubeObject]:
    try:
        return [read()]
    except OPTIONAL_ERRORS as err:
        skipped.append(f"{what}: {describe(err)}")
        return []


def _sibling_replicasets(
    reader: ClusterReader, namespace: str, owners: list[KubeObject], skipped: list[str]
) -> list[KubeObject]:
    """The Deployment's other ReplicaSets, newest revision first: what a rollback would return to."""
    found: list[KubeObject] = []
    have = {(o.get("metadata") or {}).get("uid") for o in owners}
    for deployment in (o for o in owners if o.get("kind") == "Deployment"):
        meta = deployment.get("metadata") or {}
        selector = selector_string((deployment.get("spec") or {}).get("selector") or {})
        try:
            listing = reader.list_objects("replicasets", namespace, label_selector=selector or None)
        except OPTIONAL_ERRORS as err:
            skipped.append(f"replicasets of deployments/{meta.get('name')}: {describe(err)}")
            continue
        uid = str(meta.get("uid") or "")
        mine = [rs for rs in listing.items if _owned_by(rs, uid) and rs["metadata"].get("uid") not in have]
        mine.sort(key=_revision, reverse=True)
        found += mine[:SIBLING_REPLICASETS]
    return found


def _storage(
    reader: ClusterReader, namespace: str, spec: dict[str, Any], skipped: list[str], pod_name: str
) -> list[KubeObject]:
    """PVCs of the pod's volumes (generic ephemeral ones included), their PVs, and their StorageClasses."""
    claims = []
    for volume in spec.get("volumes") or []:
        if (volume.get("persistentVolumeClaim") or {}).get("claimName"):
            claims.append(str(volume["persistentVolumeClaim"]["claimName"]))
        elif "ephemeral" in volume:
            claims.append(f"{pod_name}-{volume.get('name')}")
    gathered = reader.get_pvcs(namespace, claims)
    skipped += gathered.skipped
    volumes: list[KubeObject] = []
    classes: dict[str, list[KubeObject]] = {}
    for pvc in gathered.objects:
        pvc_spec = pvc.get("spec") or {}
        if pvc_spec.get("volumeName"):
            pv = str(pvc_spec["volumeName"])
            volumes += _one(skipped, f"persistentvolumes/{pv}", partial(reader.get, "persistentvolumes", pv))
        sc = str(pvc_spec.get("storageClassName") or "")
        if sc and sc not in classes:
            classes[sc] = _one(skipped, f"storageclasses/{sc}", partial(reader.get, "storageclasses", sc))
    return [*gathered.objects, *volumes, *(o for objs in classes.values() for o in objs)]


def _config_maps(spec: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for volume in spec.get("volumes") or []:
        names.append(str((volume.get("configMap") or {}).get("name") or ""))
        for source in (volume.get("projected") or {}).get("sources") or []:
            names.append(str((source.get("configMap") or {}).get("name") or ""))
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for env in container.get("env") or []:
            names.append(str(((env.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name") or ""))
        for env_from in container.get("envFrom") or []:
            names.append(str((env_from.get("configMapRef") or {}).get("name") or ""))
    return list(dict.fromkeys(n for n in names if n))


def _blank(config_map: KubeObject) -> KubeObject:
    """Keys tell which settings exist; values may hold secrets, so they stay in the cluster."""
    blanked = dict(config_map)
    for key in ("data", "binaryData"):
        if isinstance(blanked.get(key), dict):
            blanked[key] = dict.fromkeys(blanked[key], "")
    return blanked


def _logs(
    reader: ClusterReader, pod: KubeObject, tail_lines: int, limit_bytes: int, skipped: list[str]
) -> list[LogExcerpt]:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    keys = ("initContainerStatuses", "containerStatuses")
    statuses = {s.get("name"): s for key in keys for s in status.get(key) or []}
    logs: list[LogExcerpt] = []
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        cname = str(container.get("name") or "")
        state = statuses.get(cname) or {}
        runs = [False] if _started(state) else []
        if int(state.get("restartCount") or 0) > 0 or (state.get("lastState") or {}).get("terminated"):
            runs.append(True)
        for previous in runs:
            what = f"logs/{cname}" + (" (previous)" if previous else "")
            try:
                text = reader.read_log(
                    namespace, name, cname, previous=previous, tail_lines=tail_lines, limit_bytes=limit_bytes
                )
            except OPTIONAL_ERRORS as err:
                skipped.append(f"{what}: {describe(err)}")
                continue
            if text is not None:
                logs.append(LogExcerpt(namespace=namespace, pod=name, container=cname, previous=previous, text=text))
    return logs


def _started(state: dict[str, Any]) -> bool:
    """Has a current log: running, ended, or waiting after a run (a crash loop's current log is its last run)."""
    current = state.get("state") or {}
    ran = int(state.get("restartCount") or 0) > 0 or bool((state.get("lastState") or {}).get("terminated"))
    return "running" in current or "terminated" in current or ran or not state


def selector_string(selector: dict[str, Any]) -> str:
    """A LabelSelector object (matchLabels, matchExpressions) in the API's query syntax."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}",
                      "DoesNotExist": f"!{key}"}.get(str(op), ""))  # fmt: skip
    return ",".join(p for p in parts if p)


def _series(result: dict[str, Any]) -> MetricSeries | None:
    labels = result.get("metric")
    if not isinstance(labels, dict):
        return None
    values: list[tuple[float, float]] = []
    for sample in result.get("values") or []:
        try:
            ts, value = float(sample[0]), float(sample[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(ts) and math.isfinite(value):
            values.append((ts, value))
    return MetricSeries(metric={str(k): str(v) for k, v in labels.items()}, values=sorted(values))


def _owned_by(obj: KubeObject, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def _revision(rs: KubeObject) -> int:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if str(value).isdigit() else 0


def _event_time(event: KubeObject) -> float:
    seen = last_seen(event)
    return seen.timestamp() if seen is not None else 0.0

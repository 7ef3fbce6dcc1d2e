"""Snapshot → Signals: the typed facts every rule reads.

Only evidence about the subject is kept: events for another pod are dropped, events about the pod's node, its
claims and its owners are kept but marked ``about_subject=False``. Times become ages relative to the capture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aetherius.quantities import parse_quantity, parse_time, seconds_between
from aetherius.signals import Claim, Container, EnvReference, Event, NodeInfo, Owner, Probe, Signals
from aetherius.snapshots import KubeObject, MetricSeries, Snapshot
from knowledge import logscan, metrics
from knowledge.netpolicy import selecting_policies

_OWNER_KINDS = ("ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController")
_VOLATILE_MESSAGE = re.compile(r"\d+")


def extract(snapshot: Snapshot) -> Signals:
    pod = snapshot.pod
    meta = _dict(pod.get("metadata"))
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    captured = snapshot.metadata.captured_at or _latest_event_time(snapshot.objects)
    sig = Signals(
        namespace=str(meta.get("namespace") or ""),
        pod=str(meta.get("name") or ""),
        cluster=snapshot.metadata.cluster,
        phase=str(status.get("phase") or ""),
        pod_reason=str(status.get("reason") or ""),
        pod_message=str(status.get("message") or ""),
        deleting=bool(meta.get("deletionTimestamp")),
        node_name=str(spec.get("nodeName") or ""),
        service_account=str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        qos=str(status.get("qosClass") or ""),
        restart_policy=str(spec.get("restartPolicy") or "Always"),
        active_deadline_s=_float(spec.get("activeDeadlineSeconds")),
    )
    for cond in _list(status.get("conditions")):
        kind = str(cond.get("type") or "")
        sig.conditions[kind] = str(cond.get("status") or "")
        sig.condition_reasons[kind] = str(cond.get("reason") or "")
        sig.condition_messages[kind] = str(cond.get("message") or "")
    sig.containers = _containers(spec, status, captured)
    sig.pod_volumes = {
        str(v.get("name")): next((k for k in v if k != "name"), "unknown") for v in _list(spec.get("volumes"))
    }
    sig.present_objects = {f"{o.get('kind')}/{_dict(o.get('metadata')).get('name')}" for o in snapshot.objects}
    sig.owners = _owners(pod, snapshot.objects)
    sig.node = _node(sig.node_name, snapshot.objects)
    sig.claims = _claims(spec, snapshot.objects)
    sig.network_policies = selecting_policies(pod, snapshot.objects, captured)
    sig.events = _events(sig, snapshot.objects, captured)
    sig.log_errors, sig.log_tail = logscan.scan(snapshot.logs)
    sig.has_logs = any(log.text.strip() for log in snapshot.logs)
    _apply_metrics(sig, snapshot.metrics)
    return sig


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _latest_event_time(objects: list[KubeObject]) -> datetime | None:
    times = [t for o in objects if o.get("kind") == "Event" for t in [_event_time(o)] if t is not None]
    return max(times) if times else None


def _event_time(event: KubeObject) -> datetime | None:
    series = _dict(event.get("series"))
    for value in (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("deprecatedLastTimestamp"),
        event.get("firstTimestamp"),
        _dict(event.get("metadata")).get("creationTimestamp"),
    ):
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return None


def _probes(spec: dict[str, Any]) -> list[Probe]:
    probes = []
    for kind in ("liveness", "readiness", "startup"):
        raw = _dict(spec.get(f"{kind}Probe"))
        if not raw:
            continue
        handler = next((h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in raw), "unknown")
        body = _dict(raw.get(handler))
        command = body.get("command")
        probes.append(
            Probe(
                kind=kind,
                handler=handler,
                command=" ".join(str(c) for c in command) if isinstance(command, list) else "",
                path=str(body.get("path") or ""),
                port=str(body.get("port") or ""),
                timeout_s=float(raw.get("timeoutSeconds") or 1),
                period_s=float(raw.get("periodSeconds") or 10),
                failure_threshold=int(raw.get("failureThreshold") or 3),
                initial_delay_s=float(raw.get("initialDelaySeconds") or 0),
            )
        )
    return probes


def _env_refs(spec: dict[str, Any], volumes: list[dict[str, Any]]) -> list[EnvReference]:
    refs: list[EnvReference] = []
    for env in _list(spec.get("env")):
        source = _dict(env.get("valueFrom"))
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = _dict(source.get(key))
            if ref:
                refs.append(
                    EnvReference(
                        kind, str(ref.get("name") or ""), str(ref.get("key") or ""), bool(ref.get("optional")), "env"
                    )
                )
    for env_from in _list(spec.get("envFrom")):
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = _dict(env_from.get(key))
            if ref:
                refs.append(EnvReference(kind, str(ref.get("name") or ""), "", bool(ref.get("optional")), "envFrom"))
    mounted = {str(m.get("name")) for m in _list(spec.get("volumeMounts"))}
    for volume in volumes:
        if str(volume.get("name")) not in mounted:
            continue
        cm, secret = _dict(volume.get("configMap")), _dict(volume.get("secret"))
        if cm:
            refs.append(EnvReference("ConfigMap", str(cm.get("name") or ""), "", bool(cm.get("optional")), "volume"))
        if secret:
            refs.append(
                EnvReference("Secret", str(secret.get("secretName") or ""), "", bool(secret.get("optional")), "volume")
            )
    return refs


def _containers(spec: dict[str, Any], status: dict[str, Any], captured: datetime | None) -> list[Container]:
    volumes = _list(spec.get("volumes"))
    statuses = {str(s.get("name")): s for s in _list(status.get("containerStatuses"))}
    statuses.update({str(s.get("name")): s for s in _list(status.get("initContainerStatuses"))})
    result = []
    specs = [(c, True) for c in _list(spec.get("initContainers"))] + [(c, False) for c in _list(spec.get("containers"))]
    for cspec, init in specs:
        name = str(cspec.get("name") or "")
        resources = _dict(cspec.get("resources"))
        limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
        command = [str(x) for x in (cspec.get("command") or []) + (cspec.get("args") or []) if isinstance(x, str | int)]
        c = Container(
            name=name,
            init=init,
            sidecar=init and cspec.get("restartPolicy") == "Always",
            image=str(cspec.get("image") or ""),
            image_pull_policy=str(cspec.get("imagePullPolicy") or ""),
            memory_limit=parse_quantity(limits.get("memory")),
            memory_request=parse_quantity(requests.get("memory")),
            cpu_limit=parse_quantity(limits.get("cpu")),
            cpu_request=parse_quantity(requests.get("cpu")),
            ephemeral_limit=parse_quantity(limits.get("ephemeral-storage")),
            probes=_probes(cspec),
            env_refs=_env_refs(cspec, volumes),
            volume_mounts=[str(m.get("name")) for m in _list(cspec.get("volumeMounts"))],
            env={str(e.get("name")): str(e.get("value")) for e in _list(cspec.get("env")) if "value" in e},
            command=" ".join(command),
        )
        _apply_status(c, statuses.get(name, {}), captured)
        result.append(c)
    return result


def _apply_status(c: Container, cs: dict[str, Any], captured: datetime | None) -> None:
    state, last = _dict(cs.get("state")), _dict(cs.get("lastState"))
    c.restart_count = int(cs.get("restartCount") or 0)
    c.ready = bool(cs.get("ready"))
    c.started = bool(cs.get("started"))
    for kind in ("waiting", "running", "terminated"):
        if kind in state:
            body = _dict(state[kind])
            c.state = kind
            c.reason = str(body.get("reason") or "")
            c.message = str(body.get("message") or "")
            if kind == "running":
                c.running_for_s = seconds_between(parse_time(body.get("startedAt")), captured)
            if kind == "terminated":
                c.exit_code = _int(body.get("exitCode"))
                c.last_run_s = seconds_between(parse_time(body.get("startedAt")), parse_time(body.get("finishedAt")))
                c.last_finished_age_s = seconds_between(parse_time(body.get("finishedAt")), captured)
            break
    term = _dict(last.get("terminated"))
    if term:
        c.last_reason = str(term.get("reason") or "")
        c.last_message = str(term.get("message") or "")
        c.last_exit_code = _int(term.get("exitCode"))
        c.last_run_s = seconds_between(parse_time(term.get("startedAt")), parse_time(term.get("finishedAt")))
        c.last_finished_age_s = seconds_between(parse_time(term.get("finishedAt")), captured)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _owners(pod: KubeObject, objects: list[KubeObject]) -> list[Owner]:
    by_key = {
        (o.get("kind"), _dict(o.get("metadata")).get("name")): o for o in objects if o.get("kind") in _OWNER_KINDS
    }
    chain: list[Owner] = []
    refs = _list(_dict(pod.get("metadata")).get("ownerReferences"))
    seen: set[tuple[str, str]] = set()
    while refs:
        ref = next((r for r in refs if r.get("controller")), refs[0])
        key = (str(ref.get("kind")), str(ref.get("name")))
        if key in seen:
            break
        seen.add(key)
        obj = by_key.get(key, {})
        chain.append(_owner(key, obj, objects))
        refs = _list(_dict(obj.get("metadata")).get("ownerReferences"))
    return chain


def _owner(key: tuple[str, str], obj: KubeObject, objects: list[KubeObject]) -> Owner:
    status, meta = _dict(obj.get("status")), _dict(obj.get("metadata"))
    owner = Owner(kind=key[0], name=key[1])
    for cond in _list(status.get("conditions")):
        owner.conditions[str(cond.get("type"))] = str(cond.get("status"))
        owner.condition_reasons[str(cond.get("type"))] = f"{cond.get('reason') or ''}: {cond.get('message') or ''}"
    owner.replicas = _int(status.get("replicas"))
    owner.ready_replicas = _int(status.get("readyReplicas"))
    owner.revision = str(_dict(meta.get("annotations")).get("deployment.kubernetes.io/revision") or "")
    if key[0] == "ReplicaSet":
        owner.previous_images = _previous_images(key[1], meta, objects)
    return owner


def _previous_images(current: str, meta: dict[str, Any], objects: list[KubeObject]) -> list[str]:
    """Images of sibling ReplicaSets (same Deployment), newest revision first."""
    parents = {str(r.get("name")) for r in _list(meta.get("ownerReferences"))}
    siblings = []
    for obj in objects:
        ometa = _dict(obj.get("metadata"))
        if obj.get("kind") != "ReplicaSet" or ometa.get("name") == current:
            continue
        if parents and not parents & {str(r.get("name")) for r in _list(ometa.get("ownerReferences"))}:
            continue
        revision = _dict(ometa.get("annotations")).get("deployment.kubernetes.io/revision") or "0"
        pod_spec = _dict(_dict(_dict(obj.get("spec")).get("template")).get("spec"))
        images = [str(c.get("image")) for c in _list(pod_spec.get("containers"))]
        siblings.append((int(revision) if str(revision).isdigit() else 0, images))
    return [img for _, imgs in sorted(siblings, reverse=True) for img in imgs]


def _node(name: str, objects: list[KubeObject]) -> NodeInfo | None:
    node = next((o for o in objects if o.get("kind") == "Node" and _dict(o.get("metadata")).get("name") == name), None)
    if node is None:
        node = next((o for o in objects if o.get("kind") == "Node"), None)
    if node is None:
        return NodeInfo(name=name) if name else None
    status, spec, meta = _dict(node.get("status")), _dict(node.get("spec")), _dict(node.get("metadata"))
    info = NodeInfo(
        name=str(meta.get("name") or name), labels={str(k): str(v) for k, v in _dict(meta.get("labels")).items()}
    )
    for cond in _list(status.get("conditions")):
        info.conditions[str(cond.get("type"))] = str(cond.get("status"))
        info.condition_messages[str(cond.get("type"))] = str(cond.get("message") or "")
    info.ready = info.conditions.get("Ready", "True") == "True"
    info.unschedulable = bool(spec.get("unschedulable"))
    info.taints = [f"{t.get('key')}:{t.get('effect')}" for t in _list(spec.get("taints"))]
    info.allocatable = {str(k): str(v) for k, v in _dict(status.get("allocatable")).items()}
    info.mem_capacity = parse_quantity(_dict(status.get("capacity")).get("memory"))
    return info


def _claims(spec: dict[str, Any], objects: list[KubeObject]) -> list[Claim]:
    wanted = [
        str(_dict(v.get("persistentVolumeClaim")).get("claimName"))
        for v in _list(spec.get("volumes"))
        if v.get("persistentVolumeClaim")
    ]
    pvcs = {str(_dict(o.get("metadata")).get("name")): o for o in objects if o.get("kind") == "PersistentVolumeClaim"}
    claims = []
    for name in dict.fromkeys([*wanted, *pvcs]):
        obj = pvcs.get(name, {})
        pspec = _dict(obj.get("spec"))
        claims.append(
            Claim(
                name=name,
                phase=str(_dict(obj.get("status")).get("phase") or ("" if obj else "Missing")),
                storage_class=str(pspec.get("storageClassName") or ""),
                requested=str(_dict(_dict(pspec.get("resources")).get("requests")).get("storage") or ""),
            )
        )
    return claims


def _events(sig: Signals, objects: list[KubeObject], captured: datetime | None) -> list[Event]:
    related = {("Node", sig.node_name)} | {("PersistentVolumeClaim", c.name) for c in sig.claims}
    related |= {(o.kind, o.name) for o in sig.owners}
    # A Deployment's other ReplicaSets are named "<deployment>-<pod-template-hash>": a rollout stuck on the new one
    # (quota, admission) shows only in its events, while this pod, of the old one, runs fine.
    siblings = [re.compile(rf"{re.escape(o.name)}-[a-z0-9]{{5,10}}") for o in sig.owners if o.kind == "Deployment"]
    grouped: dict[tuple[str, str, str, str], Event] = {}
    for obj in objects:
        if obj.get("kind") != "Event":
            continue
        target = _dict(obj.get("involvedObject")) or _dict(obj.get("regarding"))
        kind, name = str(target.get("kind") or ""), str(target.get("name") or "")
        namespace = str(target.get("namespace") or "")
        about_subject = (
            kind == "Pod" and name == sig.pod and (not namespace or not sig.namespace or namespace == sig.namespace)
        )
        sibling = kind == "ReplicaSet" and any(rx.fullmatch(name) for rx in siblings)
        if not about_subject and (kind, name) not in related and not sibling:
            continue
        message = str(obj.get("message") or obj.get("note") or "")
        reason = str(obj.get("reason") or "")
        count = (
            _int(_dict(obj.get("series")).get("count"))
            or _int(obj.get("count"))
            or _int(obj.get("deprecatedCount"))
            or 1
        )
        key = (reason, kind, name, _VOLATILE_MESSAGE.sub("#", message))
        age = seconds_between(_event_time(obj), captured)
        if key in grouped:
            grouped[key].count += count
            if age is not None and (grouped[key].age_s is None or age < (grouped[key].age_s or 0)):
                grouped[key].age_s = age
            continue
        grouped[key] = Event(
            reason=reason,
            message=message,
            type=str(obj.get("type") or "Normal"),
            count=count,
            object_kind=kind,
            object_name=name,
            age_s=age,
            about_subject=about_subject,
        )
    return list(grouped.values())


def _select(series: Iterable[MetricSeries], name: str, **labels: str) -> list[MetricSeries]:
    return [s for s in series if s.name == name and all(s.metric.get(k, v) == v for k, v in labels.items())]


def _apply_metrics(sig: Signals, series: list[MetricSeries]) -> None:
    mine = [s for s in series if s.metric.get("pod", sig.pod) == sig.pod]
    for c in sig.containers:

        def sel(name: str, c: Container = c, **labels: str) -> list[MetricSeries]:
            return _select(mine, name, container=c.name, **labels)

        c.memory_peak = metrics.peak(sel("container_memory_working_set_bytes"))
        c.memory_last = metrics.last(sel("container_memory_working_set_bytes"))
        c.oom_events = metrics.increase(sel("container_oom_events_total"))
        c.throttle_ratio = metrics.throttle_ratio(
            sel("container_cpu_cfs_throttled_periods_total"), sel("container_cpu_cfs_periods_total")
        )
        c.cpu_usage_cores = metrics.usage_cores(sel("container_cpu_usage_seconds_total"))
        c.fs_usage_peak = metrics.peak(sel("container_fs_usage_bytes"))
        if c.memory_limit is None:
            c.memory_limit = metrics.last(sel("kube_pod_container_resource_limits", resource="memory"))
        if c.cpu_limit is None:
            c.cpu_limit = metrics.last(sel("kube_pod_container_resource_limits", resource="cpu"))
    for claim in sig.claims:
        avail = _select(series, "kubelet_volume_stats_available_bytes", persistentvolumeclaim=claim.name)
        capacity = metrics.last(
            _select(series, "kubelet_volume_stats_capacity_bytes", persistentvolumeclaim=claim.name)
        )
        low = metrics.minimum(avail)
        if low is not None and capacity:
            claim.used_ratio = 1 - low / capacity
    if sig.node is not None:
        node_series = [s for s in series if s.metric.get("node", sig.node.name) == sig.node.name]
        fs_avail = metrics.minimum(_select(node_series, "node_filesystem_avail_bytes"))
        size = metrics.last(_select(node_series, "node_filesystem_size_bytes"))
        if fs_avail is not None and size:
            sig.node.fs_avail_ratio_min = fs_avail / size
        sig.node.mem_avail_min = metrics.minimum(_select(node_series, "node_memory_MemAvailable_bytes"))

"""The Snap builder: one incident's clock, ids, subject Pod, container statuses and events.

Times are offsets in seconds relative to capturedAt (negative = before the capture). Every random choice comes
from a Random seeded by the case key, so a case renders identically no matter which other cases exist.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .platforms import (
    ALNUM,
    PLATFORMS,
    backoff_message,
    created_message,
    kv,
    node_name,
    pulled_message,
    runtime_prefix,
    started_message,
)

Obj = dict[str, Any]


class Snap:
    def __init__(self, key: str, *, cluster: str, captured: str, platform: str, version: str, ns: str,
                 events_api: str = "v1", region: str | None = None) -> None:
        self.key = key
        self.rng = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
        self.now = datetime.strptime(captured, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        self.cluster, self.platform, self.version, self.ns = cluster, platform, version, ns
        self.events_api = events_api
        self.region = region
        self.p = PLATFORMS[platform]
        self._rv = self.rng.randint(20_000_000, 900_000_000)
        self.pod: Obj = {}
        self.events: list[Obj] = []
        self.extra: list[Obj] = []
        self.logs: list[Obj] = []
        self.metrics: list[Obj] = []
        self.label: Obj = {}
        self.statuses: dict[str, Obj] = {}
        self.init_statuses: dict[str, Obj] = {}
        self.node = ""
        self.pod_ip = ""
        self.host_ip = ""

    # ---- clock and ids ------------------------------------------------------------------------------------
    def dt(self, off: float) -> datetime:
        return self.now + timedelta(seconds=off)

    def iso(self, off: float) -> str:
        return self.dt(off).strftime("%Y-%m-%dT%H:%M:%SZ")

    def iso_micro(self, off: float) -> str:
        return self.dt(off).strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.rng.randint(0, 999999):06d}Z"

    def unix(self, off: float) -> int:
        return int(self.dt(off).timestamp())

    def uid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[self.rng.randint(0, 3)]}{h[17:20]}-{h[20:32]}"

    def hexs(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def sfx(self, n: int = 5) -> str:
        return "".join(self.rng.choice(ALNUM) for _ in range(n))

    def rv(self) -> str:
        self._rv += self.rng.randint(3, 4000)
        return str(self._rv)

    def cid(self) -> str:
        return runtime_prefix(self.platform) + self.hexs(64)

    def new_node(self, pool: str = "default", region: str | None = None) -> str:
        return node_name(self.platform, self.rng, pool=pool, region=region or self.region or "eu-west-1")

    def node_ip(self, name: str) -> str:
        if not hasattr(self, "_node_ips"):
            self._node_ips: dict[str, str] = {}
        if name not in self._node_ips:
            if name.startswith("ip-") and self.platform == "eks":
                self._node_ips[name] = ".".join(name.split(".")[0].split("-")[1:5])
            else:
                self._node_ips[name] = self.ip("node")
        return self._node_ips[name]

    def ip(self, kind: str = "pod") -> str:
        base = str(self.p["pod_cidr" if kind == "pod" else "node_cidr"])
        parts = base.split(".")
        while len(parts) < 3:
            parts.append(str(self.rng.randint(0, 250)))
        return ".".join(parts + [str(self.rng.randint(2, 250))])

    def v(self, at_least: str) -> bool:
        return kv(self.version) >= kv(at_least)

    # ---- subject Pod -------------------------------------------------------------------------------------
    def make_pod(self, name: str, *, containers: list[Obj], created: float, node: str | None,
                 owner: Obj | None = None, init_containers: list[Obj] | None = None,
                 volumes: list[Obj] | None = None, sa: str = "default", labels: dict[str, str] | None = None,
                 annotations: dict[str, str] | None = None, extra_spec: Obj | None = None,
                 restart_policy: str = "Always", generate_name: str | None = None,
                 scheduled_at: float | None = None, automount: bool = True) -> Obj:
        self.node = node or ""
        self.created = created
        self.scheduled_at = created + 1 if scheduled_at is None else scheduled_at
        api_vol = f"kube-api-access-{self.sfx()}"
        vols = list(volumes or [])
        if automount:
            for c in containers + (init_containers or []):
                c.setdefault("volumeMounts", []).append(
                    {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": api_vol, "readOnly": True})
            vols.append(_api_volume(api_vol))
        meta: Obj = {"creationTimestamp": self.iso(created), "labels": labels or {}, "name": name,
                     "namespace": self.ns, "resourceVersion": self.rv(), "uid": self.uid()}
        if generate_name:
            meta["generateName"] = generate_name
        if annotations:
            meta["annotations"] = annotations
        if owner:
            meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "blockOwnerDeletion": True,
                                        "controller": True, "kind": owner["kind"], "name": owner["name"],
                                        "uid": owner["uid"]}]
        spec: Obj = {"containers": containers, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
                     "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": restart_policy,
                     "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": sa,
                     "serviceAccountName": sa, "terminationGracePeriodSeconds": 30,
                     "tolerations": [
                         {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                          "tolerationSeconds": 300},
                         {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                          "tolerationSeconds": 300}],
                     "volumes": vols}
        if init_containers:
            spec["initContainers"] = init_containers
        if node:
            spec["nodeName"] = node
        spec.update(extra_spec or {})
        self.pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {}}
        if node:
            self.pod_ip, self.host_ip = self.ip("pod"), self.node_ip(node)
        return self.pod

    @property
    def pod_name(self) -> str:
        return str(self.pod["metadata"]["name"])

    @property
    def pod_uid(self) -> str:
        return str(self.pod["metadata"]["uid"])

    def spec_of(self, name: str) -> Obj:
        for c in self.pod["spec"]["containers"] + self.pod["spec"].get("initContainers", []):
            if c["name"] == name:
                return c
        raise KeyError(name)

    # ---- container states ---------------------------------------------------------------------------------
    def running(self, since: float) -> Obj:
        return {"running": {"startedAt": self.iso(since)}}

    def waiting(self, reason: str, message: str | None = None) -> Obj:
        w: Obj = {"reason": reason}
        if message is not None:
            w["message"] = message
        return {"waiting": w}

    def terminated(self, code: int, reason: str, start: float, end: float, message: str | None = None,
                   signal: int | None = None) -> Obj:
        t: Obj = {"containerID": self.cid(), "exitCode": code, "finishedAt": self.iso(end), "reason": reason,
                  "startedAt": self.iso(start)}
        if message:
            t["message"] = message
        if signal is not None:
            t["signal"] = signal
        return {"terminated": t}

    def status(self, name: str, *, state: Obj, last: Obj | None = None, restarts: int = 0,
               ready: bool | None = None, started: bool | None = None, image_ok: bool = True) -> Obj:
        spec = self.spec_of(name)
        init = any(c["name"] == name for c in self.pod["spec"].get("initContainers", []))
        image = spec["image"]
        st: Obj = {"image": image if ":" in image.rsplit("/", 1)[-1] or "@" in image else image + ":latest",
                   "imageID": "", "lastState": last or {}, "name": name,
                   "ready": bool(ready) if ready is not None else "running" in state,
                   "restartCount": restarts, "state": state}
        if image_ok:
            digest = "sha256:" + hashlib.sha256((self.key + image).encode()).hexdigest()
            repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            prefix = "docker-pullable://" if self.p["runtime"] == "docker" else ""
            st["imageID"] = f"{prefix}{repo}@{digest}"
            st["containerID"] = (state.get("terminated") or {}).get("containerID") or self.cid()
        if started is not None or not init:
            st["started"] = bool(started) if started is not None else "running" in state
        if self.v("1.31") and "running" in state:
            st["volumeMounts"] = [{"mountPath": m["mountPath"], "name": m["name"],
                                   **({"readOnly": True, "recursiveReadOnly": "Disabled"} if m.get("readOnly") else {})}
                                  for m in spec.get("volumeMounts", [])]
        (self.init_statuses if init else self.statuses)[name] = st
        return st

    # ---- events -------------------------------------------------------------------------------------------
    def pod_ref(self, field: str | None = None) -> Obj:
        ref: Obj = {"apiVersion": "v1", "kind": "Pod", "name": self.pod_name, "namespace": self.ns,
                    "resourceVersion": self.pod["metadata"]["resourceVersion"], "uid": self.pod_uid}
        if field:
            init = any(c["name"] == field for c in self.pod["spec"].get("initContainers", []))
            ref["fieldPath"] = f"spec.{'initContainers' if init else 'containers'}{{{field}}}"
        return ref

    def ref(self, obj: Obj) -> Obj:
        m = obj["metadata"]
        r: Obj = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": m["name"],
                  "resourceVersion": m.get("resourceVersion", ""), "uid": m.get("uid", "")}
        if "namespace" in m:
            r["namespace"] = m["namespace"]
        return r

    def event(self, reason: str, message: str, *, type: str = "Warning", count: int = 1, first: float = -600,
              last: float | None = None, obj: Obj | None = None, field: str | None = None,
              component: str = "kubelet", host: str | None = None, action: str | None = None,
              series: bool | None = None) -> Obj:
        last = first if last is None else last
        involved = obj or self.pod_ref(field)
        if obj is not None and field:
            involved = {**obj, "fieldPath": field}
        host = self.node if host is None and component == "kubelet" else host
        name = f"{involved['name']}.{self.hexs(16)}"
        ns = involved.get("namespace", "default")
        new_style = component == "default-scheduler" if series is None else series
        meta = {"creationTimestamp": self.iso(first), "name": name, "namespace": ns, "resourceVersion": self.rv(),
                "uid": self.uid()}
        src: Obj = {"component": component, **({"host": host} if host else {})}
        reporting_instance = host if component == "kubelet" else (component if new_style else "")
        if self.events_api == "events":
            ev: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": meta, "note": message,
                       "reason": reason, "regarding": involved, "reportingController": component, "type": type}
            if action:
                ev["action"] = action
            if reporting_instance:
                ev["reportingInstance"] = reporting_instance
            if new_style:
                ev["eventTime"] = self.iso_micro(first)
                if count > 1:
                    ev["series"] = {"count": count, "lastObservedTime": self.iso_micro(last)}
            else:
                ev["eventTime"] = None
                ev.update({"deprecatedCount": count, "deprecatedFirstTimestamp": self.iso(first),
                           "deprecatedLastTimestamp": self.iso(last), "deprecatedSource": src})
        else:
            ev = {"apiVersion": "v1", "kind": "Event", "involvedObject": involved, "message": message,
                  "metadata": meta, "reason": reason, "type": type}
            modern = new_style or self.v("1.24")
            ev["reportingComponent"] = component if modern else ""
            ev["reportingInstance"] = (reporting_instance or "") if modern else ""
            if new_style:
                ev.update({"action": action or "Scheduling", "eventTime": self.iso_micro(first),
                           "firstTimestamp": None, "lastTimestamp": None, "source": {}})
                if count > 1:
                    ev["series"] = {"count": count, "lastObservedTime": self.iso_micro(last)}
            else:
                ev.update({"count": count, "eventTime": None, "firstTimestamp": self.iso(first),
                           "lastTimestamp": self.iso(last), "source": src})
        ev["_sort"] = last
        self.events.append(ev)
        return ev

    def ev_scheduled(self, at: float | None = None) -> Obj:
        at = self.scheduled_at if at is None else at
        return self.event("Scheduled", f"Successfully assigned {self.ns}/{self.pod_name} to {self.node}",
                          type="Normal", first=at, component="default-scheduler", action="Binding", series=True)

    def ev_cycle(self, container: str, *, count: int, first: float, last: float, pulled_first: bool = True,
                 pull_secs: float | None = None, size: int | None = None) -> None:
        """Pulling/Pulled, Created, Started for a container that started `count` times."""
        image = self.spec_of(container)["image"]
        policy = self.spec_of(container).get("imagePullPolicy", "IfNotPresent")
        secs = pull_secs if pull_secs is not None else self.rng.uniform(0.8, 14)
        if pulled_first or policy == "Always":
            room = first - 1.5 - self.scheduled_at
            if secs > room:
                secs = max(0.3 + self.rng.random() * 0.2, room * self.rng.uniform(0.55, 0.9))
        size = size or self.rng.randint(40_000_000, 900_000_000)
        if policy == "Always":
            self.event("Pulling", f'Pulling image "{image}"', type="Normal", count=count, first=first - secs - 1,
                       last=last - 2, field=container)
            self.event("Pulled", pulled_message(self.version, image, secs, size), type="Normal", count=count,
                       first=first - 1, last=last - 1, field=container)
        elif pulled_first:
            self.event("Pulling", f'Pulling image "{image}"', type="Normal", first=first - secs - 1, field=container)
            self.event("Pulled", pulled_message(self.version, image, secs, size), type="Normal", first=first - 1,
                       field=container)
            if count > 1:
                self.event("Pulled", f'Container image "{image}" already present on machine', type="Normal",
                           count=count - 1, first=first + 60, last=last - 1, field=container)
        else:
            self.event("Pulled", f'Container image "{image}" already present on machine', type="Normal",
                       count=count, first=first - 1, last=last - 1, field=container)
        self.event("Created", created_message(self.version, container), type="Normal", count=count, first=first,
                   last=last, field=container)
        self.event("Started", started_message(self.version, container), type="Normal", count=count, first=first,
                   last=last, field=container)

    def ev_backoff(self, container: str, *, count: int, first: float, last: float) -> Obj:
        return self.event("BackOff", backoff_message(self.version, container, self.pod_name, self.ns, self.pod_uid),
                          count=count, first=first, last=last, field=container)

    # ---- logs ---------------------------------------------------------------------------------------------
    def log(self, container: str, text: str, previous: bool = False) -> None:
        self.logs.append({"namespace": self.ns, "pod": self.pod_name, "container": container,
                          "previous": previous, "text": text.rstrip("\n")})

    def labels(self, category: str, *, why: str, remediation: str, also: list[str] | None = None,
               hard: bool = True) -> None:
        self.label = {"category": category, "also_acceptable": also or [], "remediation": remediation,
                      "hard": hard, "why": why}


def _api_volume(name: str) -> Obj:
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}


def image_pull_failure(s: Snap, c: str, error: str, *, count: int, first: float, last: float = -5,
                       pull_backoff: bool = True, image: str | None = None) -> None:
    """Pulling/Failed/BackOff events and the waiting status of a container whose image cannot be pulled."""
    image = image or s.spec_of(c)["image"]
    s.event("Pulling", f'Pulling image "{image}"', type="Normal", count=count, first=first, last=last - 40, field=c)
    s.event("Failed", f'Failed to pull image "{image}": {error}', count=count, first=first + 1, last=last - 39,
            field=c)
    s.event("Failed", "Error: ErrImagePull", count=count, first=first + 1, last=last - 39, field=c)
    n = max(1, int((last - first) / 12))
    s.event("BackOff", f'Back-off pulling image "{image}"', type="Normal", count=n, first=first + 2, last=last,
            field=c)
    s.event("Failed", "Error: ImagePullBackOff", count=n, first=first + 2, last=last, field=c)
    if pull_backoff:
        msg = f'Back-off pulling image "{image}"'
        if s.v("1.30"):
            msg += f": ErrImagePull: {error}"
        s.status(c, state=s.waiting("ImagePullBackOff", msg), image_ok=False)
    else:
        s.status(c, state=s.waiting("ErrImagePull", error), image_ok=False)

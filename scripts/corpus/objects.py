"""Container specs, probes, workloads (owners), Nodes and the other API objects a snapshot may carry."""

from __future__ import annotations

import copy
from typing import Any

from .snap import Obj, Snap

# ---- container spec helpers -----------------------------------------------------------------------------------


def res(req_cpu: str | None = None, req_mem: str | None = None, lim_cpu: str | None = None,
        lim_mem: str | None = None, **extra: str) -> Obj:
    r: Obj = {}
    lim = {k: v for k, v in (("cpu", lim_cpu), ("memory", lim_mem)) if v}
    req = {k: v for k, v in (("cpu", req_cpu), ("memory", req_mem)) if v}
    for k, v in extra.items():
        kind, name = k.split("_", 1)
        (lim if kind == "lim" else req)[name.replace("__", "/").replace("_", "-")] = v
    if lim:
        r["limits"] = lim
    if req:
        r["requests"] = req
    return r


def _probe(handler: Obj, delay: int, period: int, timeout: int, failure: int, success: int) -> Obj:
    return {**handler, "failureThreshold": failure, "initialDelaySeconds": delay, "periodSeconds": period,
            "successThreshold": success, "timeoutSeconds": timeout}


def http_probe(path: str, port: int | str, *, delay: int = 0, period: int = 10, timeout: int = 1,
               failure: int = 3, success: int = 1, scheme: str = "HTTP") -> Obj:
    return _probe({"httpGet": {"path": path, "port": port, "scheme": scheme}}, delay, period, timeout, failure,
                  success)


def tcp_probe(port: int | str, *, delay: int = 0, period: int = 10, timeout: int = 1, failure: int = 3) -> Obj:
    return _probe({"tcpSocket": {"port": port}}, delay, period, timeout, failure, 1)


def exec_probe(cmd: list[str], *, delay: int = 0, period: int = 10, timeout: int = 1, failure: int = 3) -> Obj:
    return _probe({"exec": {"command": cmd}}, delay, period, timeout, failure, 1)


def grpc_probe(port: int, service: str | None = None, *, delay: int = 0, period: int = 10, timeout: int = 1,
               failure: int = 3) -> Obj:
    g: Obj = {"port": port}
    if service is not None:
        g["service"] = service
    return _probe({"grpc": g}, delay, period, timeout, failure, 1)


def container(name: str, image: str, *, command: list[str] | None = None, args: list[str] | None = None,
              env: dict[str, Any] | list[Obj] | None = None, env_from: list[Obj] | None = None,
              ports: list[int | tuple[int, str]] | None = None, resources: Obj | None = None,
              liveness: Obj | None = None, readiness: Obj | None = None, startup: Obj | None = None,
              mounts: list[Obj] | None = None, pull: str = "IfNotPresent", security: Obj | None = None,
              restart_policy: str | None = None, workdir: str | None = None) -> Obj:
    c: Obj = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if env:
        c["env"] = env if isinstance(env, list) else [
            v if isinstance(v, dict) and "name" in v else {"name": k, **(v if isinstance(v, dict) else {"value": str(v)})}
            for k, v in env.items()]
    if env_from:
        c["envFrom"] = env_from
    c["imagePullPolicy"] = pull
    if liveness:
        c["livenessProbe"] = liveness
    if ports:
        c["ports"] = [{"containerPort": p, "name": n, "protocol": "TCP"} if n else {"containerPort": p, "protocol": "TCP"}
                      for p, n in ((p, None) if isinstance(p, int) else p for p in ports)]
    if readiness:
        c["readinessProbe"] = readiness
    c["resources"] = resources or {}
    if restart_policy:
        c["restartPolicy"] = restart_policy
    if security:
        c["securityContext"] = security
    if startup:
        c["startupProbe"] = startup
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    if mounts:
        c["volumeMounts"] = list(mounts)
    if workdir:
        c["workingDir"] = workdir
    return c


def secret_env(secret: str, key: str) -> Obj:
    return {"valueFrom": {"secretKeyRef": {"key": key, "name": secret}}}


def cm_env(cm: str, key: str) -> Obj:
    return {"valueFrom": {"configMapKeyRef": {"key": key, "name": cm}}}


def mount(name: str, path: str, *, ro: bool = False, sub: str | None = None) -> Obj:
    m: Obj = {"mountPath": path, "name": name}
    if ro:
        m["readOnly"] = True
    if sub:
        m["subPath"] = sub
    return m


# ---- workloads ----------------------------------------------------------------------------------------------


def _template(s: Snap, labels: dict[str, str]) -> Obj:
    spec = copy.deepcopy(s.pod["spec"])
    for key in ("nodeName", "serviceAccount", "enableServiceLinks", "preemptionPolicy", "priority", "tolerations"):
        spec.pop(key, None)
    spec["volumes"] = [v for v in spec.get("volumes", []) if not v["name"].startswith("kube-api-access-")]
    if not spec["volumes"]:
        spec.pop("volumes")
    for c in spec["containers"] + spec.get("initContainers", []):
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if not m["name"].startswith("kube-api-access-")]
        if not c["volumeMounts"]:
            c.pop("volumeMounts")
    return {"metadata": {"creationTimestamp": None, "labels": labels}, "spec": spec}


def cond(type_: str, status: str, reason: str | None, message: str | None, s: Snap, since: float,
         updated: float | None = None, probe: bool = False) -> Obj:
    c: Obj = {"lastTransitionTime": s.iso(since), "status": status, "type": type_}
    if updated is not None:
        c["lastUpdateTime"] = s.iso(updated)
    if probe:
        c["lastProbeTime"] = None
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


class Deployment:
    def __init__(self, s: Snap, name: str, *, replicas: int = 3, labels: dict[str, str] | None = None,
                 revision: int = 7) -> None:
        self.s, self.name, self.replicas, self.revision = s, name, replicas, revision
        self.hash = s.sfx(10 if s.v("1.25") else 9)
        self.rs_name = f"{name}-{self.hash}"
        self.uid, self.rs_uid = s.uid(), s.uid()
        self.labels = labels or {"app.kubernetes.io/name": name}
        self.pod_labels = {**self.labels, "pod-template-hash": self.hash}
        self.pod_name = f"{self.rs_name}-{s.sfx()}"
        self.generate_name = f"{self.rs_name}-"
        self.owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self.rs_name, "uid": self.rs_uid}
        self.rs_obj: Obj = {}
        self.obj: Obj = {}

    def emit(self, *, ready: int | None = None, rs_created: float = -7200, created: float = -86400 * 90,
             conditions: list[Obj] | None = None, deploy: bool = True, updated: int | None = None,
             unavailable: int | None = None) -> None:
        s = self.s
        ready = self.replicas if ready is None else ready
        tmpl = _template(s, self.pod_labels)
        self.rs_obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
            "annotations": {"deployment.kubernetes.io/desired-replicas": str(self.replicas),
                            "deployment.kubernetes.io/max-replicas": str(self.replicas + max(1, self.replicas // 4)),
                            "deployment.kubernetes.io/revision": str(self.revision)},
            "creationTimestamp": s.iso(rs_created), "generation": 1, "labels": self.pod_labels,
            "name": self.rs_name, "namespace": s.ns,
            "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                                 "kind": "Deployment", "name": self.name, "uid": self.uid}],
            "resourceVersion": s.rv(), "uid": self.rs_uid},
            "spec": {"replicas": self.replicas, "selector": {"matchLabels": self.pod_labels}, "template": tmpl},
            "status": {"availableReplicas": ready, "fullyLabeledReplicas": self.replicas,
                       "observedGeneration": 1, "readyReplicas": ready, "replicas": self.replicas}}
        s.extra.append(self.rs_obj)
        if not deploy:
            return
        dtmpl = copy.deepcopy(tmpl)
        dtmpl["metadata"]["labels"] = self.labels
        if conditions is None:
            conditions = [
                cond("Available", "True" if ready else "False",
                     "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                     "Deployment has minimum availability." if ready else "Deployment does not have minimum availability.",
                     s, -3000, updated=-3000),
                cond("Progressing", "True", "NewReplicaSetAvailable",
                     f'ReplicaSet "{self.rs_name}" has successfully progressed.', s, created + 600, updated=rs_created + 120)]
        self.obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
            "annotations": {"deployment.kubernetes.io/revision": str(self.revision)},
            "creationTimestamp": s.iso(created), "generation": self.revision, "labels": self.labels,
            "name": self.name, "namespace": s.ns, "resourceVersion": s.rv(), "uid": self.uid},
            "spec": {"progressDeadlineSeconds": 600, "replicas": self.replicas, "revisionHistoryLimit": 10,
                     "selector": {"matchLabels": self.labels},
                     "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                  "type": "RollingUpdate"}, "template": dtmpl},
            "status": {"availableReplicas": ready, "conditions": conditions, "observedGeneration": self.revision,
                       "readyReplicas": ready, "replicas": self.replicas,
                       "updatedReplicas": self.replicas if updated is None else updated}}
        if unavailable or ready < self.replicas:
            self.obj["status"]["unavailableReplicas"] = unavailable or self.replicas - ready
        if not ready:
            for k in ("availableReplicas", "readyReplicas"):
                self.obj["status"].pop(k)
        s.extra.append(self.obj)


class StatefulSet:
    def __init__(self, s: Snap, name: str, *, replicas: int = 3, ordinal: int = 0,
                 labels: dict[str, str] | None = None) -> None:
        self.s, self.name, self.replicas = s, name, replicas
        self.uid = s.uid()
        self.labels = labels or {"app.kubernetes.io/name": name}
        self.revision = f"{name}-{s.hexs(10)}"
        self.pod_name = f"{name}-{ordinal}"
        self.generate_name = f"{name}-"
        self.pod_labels = {**self.labels, "apps.kubernetes.io/pod-index": str(ordinal),
                           "controller-revision-hash": self.revision,
                           "statefulset.kubernetes.io/pod-name": self.pod_name}
        if not s.v("1.28"):
            self.pod_labels.pop("apps.kubernetes.io/pod-index")
        self.owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": self.uid}

    def emit(self, *, ready: int, created: float = -86400 * 200, service: str | None = None,
             claims: list[Obj] | None = None) -> None:
        s = self.s
        tmpl = _template(s, self.labels)
        tmpl["spec"].pop("hostname", None)
        tmpl["spec"].pop("subdomain", None)
        tmpl["spec"]["volumes"] = [v for v in tmpl["spec"].get("volumes", []) if "persistentVolumeClaim" not in v]
        if not tmpl["spec"]["volumes"]:
            tmpl["spec"].pop("volumes")
        spec: Obj = {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                     "podManagementPolicy": "OrderedReady", "replicas": self.replicas, "revisionHistoryLimit": 10,
                     "selector": {"matchLabels": self.labels}, "serviceName": service or f"{self.name}-headless",
                     "template": tmpl, "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"}}
        if claims:
            spec["volumeClaimTemplates"] = claims
        st: Obj = {"availableReplicas": ready, "collisionCount": 0, "currentReplicas": self.replicas,
                   "currentRevision": self.revision, "observedGeneration": 3, "readyReplicas": ready,
                   "replicas": self.replicas, "updateRevision": self.revision, "updatedReplicas": self.replicas}
        if not ready:
            st.pop("readyReplicas")
        s.extra.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {
            "creationTimestamp": s.iso(created), "generation": 3, "labels": self.labels, "name": self.name,
            "namespace": s.ns, "resourceVersion": s.rv(), "uid": self.uid}, "spec": spec, "status": st})


class Job:
    def __init__(self, s: Snap, name: str, *, cron: str | None = None, scheduled: float = -3600) -> None:
        self.s, self.cron = s, cron
        if cron:
            name = f"{cron}-{s.unix(scheduled) // 60}"
        self.name = name
        self.uid, self.cron_uid = s.uid(), s.uid()
        self.created = scheduled
        self.pod_name = f"{name}-{s.sfx()}"
        self.generate_name = f"{name}-"
        self.pod_labels = {"batch.kubernetes.io/controller-uid": self.uid, "batch.kubernetes.io/job-name": name,
                           "controller-uid": self.uid, "job-name": name}
        if not s.v("1.27"):
            self.pod_labels = {"controller-uid": self.uid, "job-name": name}
        self.owner = {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": self.uid}
        self.obj: Obj = {}

    def emit(self, *, status: Obj, backoff: int = 6, deadline: int | None = None, parallelism: int = 1) -> Obj:
        s = self.s
        meta: Obj = {"creationTimestamp": s.iso(self.created), "generation": 1, "labels": self.pod_labels,
                     "name": self.name, "namespace": s.ns, "resourceVersion": s.rv(), "uid": self.uid}
        if self.cron:
            meta["annotations"] = {"batch.kubernetes.io/cronjob-scheduled-timestamp": s.iso(self.created)}
            meta["ownerReferences"] = [{"apiVersion": "batch/v1", "blockOwnerDeletion": True, "controller": True,
                                        "kind": "CronJob", "name": self.cron, "uid": self.cron_uid}]
        tmpl = _template(s, self.pod_labels)
        spec: Obj = {"backoffLimit": backoff, "completionMode": "NonIndexed", "completions": 1,
                     "manualSelector": False, "parallelism": parallelism,
                     "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": self.uid}},
                     "suspend": False, "template": tmpl}
        if deadline:
            spec["activeDeadlineSeconds"] = deadline
        if s.v("1.28"):
            spec["podReplacementPolicy"] = "TerminatingOrFailed"
        self.obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec, "status": status}
        s.extra.append(self.obj)
        return self.obj


class DaemonSet:
    def __init__(self, s: Snap, name: str, labels: dict[str, str] | None = None) -> None:
        self.s, self.name = s, name
        self.uid = s.uid()
        self.labels = labels or {"app.kubernetes.io/name": name}
        self.hash = f"{s.rng.randint(10**8, 10**10 - 1)}"[:10]
        self.pod_name = f"{name}-{s.sfx()}"
        self.generate_name = f"{name}-"
        self.pod_labels = {**self.labels, "controller-revision-hash": self.hash, "pod-template-generation": "4"}
        self.owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": name, "uid": self.uid}


# ---- nodes ---------------------------------------------------------------------------------------------------

_PRESSURE = {
    "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available",
                       "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                     "KubeletHasDiskPressure", "kubelet has disk pressure"),
    "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available",
                    "KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}


def node(s: Snap, name: str, *, pool: str = "default", zone: str = "eu-west-1a", instance: str = "m6i.xlarge",
         cpu: int = 4, mem_gi: int = 16, disk_gi: int = 100, pressure: dict[str, float] | None = None,
         taints: list[Obj] | None = None, labels: dict[str, str] | None = None, arch: str = "amd64",
         created: float = -86400 * 21, ready: bool = True, ready_since: float | None = None,
         unschedulable: bool = False, emit: bool = True) -> Obj:
    """pressure: condition type -> offset since which it is True."""
    region = zone[:-1] if zone[-1].isalpha() and s.platform in ("eks", "gke") else zone.rsplit("-", 1)[0]
    lab: Obj = {"beta.kubernetes.io/arch": arch, "beta.kubernetes.io/instance-type": instance,
                "beta.kubernetes.io/os": "linux", "failure-domain.beta.kubernetes.io/region": region,
                "failure-domain.beta.kubernetes.io/zone": zone, "kubernetes.io/arch": arch,
                "kubernetes.io/hostname": name.split(".")[0] if s.platform == "openshift" else name,
                "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": instance,
                "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone}
    extra_lab = {
        "eks": {"eks.amazonaws.com/nodegroup": pool, "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "topology.ebs.csi.aws.com/zone": zone},
        "gke": {"cloud.google.com/gke-nodepool": pool, "cloud.google.com/gke-os-distribution": "cos",
                "cloud.google.com/machine-family": instance.split("-")[0], "topology.gke.io/zone": zone},
        "aks": {"kubernetes.azure.com/agentpool": pool, "kubernetes.azure.com/mode": "user",
                "kubernetes.azure.com/os-sku": "Ubuntu", "agentpool": pool},
        "openshift": {"node-role.kubernetes.io/worker": "", "node.openshift.io/os_id": "rhcos"},
        "k3s": {"node.kubernetes.io/instance-type": "k3s"},
    }.get(s.platform, {})
    lab.update(extra_lab)
    lab.update(labels or {})
    if "karpenter.sh/nodepool" in lab:
        for k in ("eks.amazonaws.com/nodegroup", "eks.amazonaws.com/capacityType"):
            lab.pop(k, None)
    pressure = pressure or {}
    conds = []
    beat = s.iso(-s.rng.randint(5, 40)) if ready else s.iso((ready_since or -900) - 40)
    for t, (ok_r, ok_m, bad_r, bad_m) in _PRESSURE.items():
        bad = t in pressure
        conds.append({"lastHeartbeatTime": beat,
                      "lastTransitionTime": s.iso(pressure[t] if bad else created + 60),
                      "message": bad_m if bad else ok_m, "reason": bad_r if bad else ok_r,
                      "status": "True" if bad else "False", "type": t})
        if not ready:
            conds[-1].update({"lastTransitionTime": s.iso(ready_since if ready_since is not None else -900),
                              "message": "Kubelet stopped posting node status.", "reason": "NodeStatusUnknown",
                              "status": "Unknown"})
    conds.append({"lastHeartbeatTime": beat,
                  "lastTransitionTime": s.iso(ready_since if ready_since is not None else created + 60),
                  "message": "kubelet is posting ready status" if ready else "Kubelet stopped posting node status.",
                  "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                  "status": "True" if ready else "Unknown", "type": "Ready"})
    if s.platform in ("gke", "aks"):
        conds.insert(0, {"lastHeartbeatTime": s.iso(created + 70), "lastTransitionTime": s.iso(created + 70),
                         "message": "RouteController created a route", "reason": "RouteCreated",
                         "status": "False", "type": "NetworkUnavailable"})
    mem_ki = mem_gi * 1024 * 1024
    ip = s.node_ip(name)
    kubelet = dict(s.p["kubelet"]).get(int(s.version.split(".")[1]), f"v{s.version}.0")  # type: ignore[call-overload]
    spec: Obj = {}
    if s.platform == "eks":
        spec["providerID"] = f"aws:///{zone}/i-0{s.hexs(16)}"
    elif s.platform == "gke":
        spec["providerID"] = f"gce://acme-prod/{zone}/{name}"
    elif s.platform == "aks":
        spec["providerID"] = f"azure:///subscriptions/{s.uid()}/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/{name[:-6]}/virtualMachines/{int(name[-6:], 16)}"
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    alloc_cpu = f"{cpu * 1000 - 90 - 10 * cpu}m"
    kernel = str(s.p["kernel"])
    if arch == "arm64":
        kernel = kernel.replace("x86_64", "aarch64")
    elif "raspi" in kernel:
        kernel = "6.5.0-35-generic"
    obj = {"apiVersion": "v1", "kind": "Node", "metadata": {
        "annotations": {"alpha.kubernetes.io/provided-node-ip": ip, "node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        "creationTimestamp": s.iso(created), "labels": lab, "name": name, "resourceVersion": s.rv(),
        "uid": s.uid()}, "spec": spec,
        "status": {"addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
                   "allocatable": {"cpu": alloc_cpu, "ephemeral-storage": str(int(disk_gi * 0.9 * 1024**3)),
                                   "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": f"{mem_ki - 1_100_000}Ki",
                                   "pods": "110" if s.platform != "eks" else "58"},
                   "capacity": {"cpu": str(cpu), "ephemeral-storage": f"{disk_gi * 1024 * 1024}Ki",
                                "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": f"{mem_ki}Ki",
                                "pods": "110" if s.platform != "eks" else "58"},
                   "conditions": conds,
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                   "nodeInfo": {"architecture": arch, "bootID": s.uid(),
                                "containerRuntimeVersion": s.p["runtime_version"], "kernelVersion": kernel,
                                "kubeProxyVersion": kubelet, "kubeletVersion": kubelet, "machineID": s.hexs(32),
                                "operatingSystem": "linux", "osImage": s.p["os"], "systemUUID": s.uid().upper()}}}
    if emit:
        s.extra.append(obj)
    return obj


def taint(key: str, effect: str = "NoSchedule", value: str | None = None, since: str | None = None) -> Obj:
    t: Obj = {"effect": effect, "key": key}
    if value is not None:
        t["value"] = value
    if since:
        t["timeAdded"] = since
    return t

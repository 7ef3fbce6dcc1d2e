"""Storage, networking and policy objects: PVC, PV, StorageClass, Service, Endpoints, NetworkPolicy, quotas."""

from __future__ import annotations

from .snap import Obj, Snap


def pvc(s: Snap, name: str, *, sc: str | None, size: str = "20Gi", phase: str = "Bound", volume: str | None = None,
        access: str = "ReadWriteOnce", provisioner: str | None = None, created: float = -86400 * 30,
        labels: dict[str, str] | None = None, selected_node: str | None = None, used: float | None = None) -> Obj:
    ann: Obj = {}
    if phase == "Bound":
        ann.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"})
    if provisioner:
        ann["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        ann["volume.kubernetes.io/storage-provisioner"] = provisioner
    if selected_node:
        ann["volume.kubernetes.io/selected-node"] = selected_node
    meta: Obj = {"creationTimestamp": s.iso(created), "finalizers": ["kubernetes.io/pvc-protection"],
                 "name": name, "namespace": s.ns, "resourceVersion": s.rv(), "uid": s.uid()}
    if ann:
        meta["annotations"] = ann
    if labels:
        meta["labels"] = labels
    spec: Obj = {"accessModes": [access], "resources": {"requests": {"storage": size}}, "volumeMode": "Filesystem"}
    if sc is not None:
        spec["storageClassName"] = sc
    status: Obj = {"phase": phase}
    if volume:
        spec["volumeName"] = volume
    if phase == "Bound":
        status.update({"accessModes": [access], "capacity": {"storage": size}})
    obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec, "status": status}
    s.extra.append(obj)
    return obj


def pv(s: Snap, name: str, *, claim: str, sc: str, size: str, driver: str, handle: str,
       zone_key: str | None = None, zone: str | None = None, created: float = -86400 * 30,
       fstype: str = "ext4", access: str = "ReadWriteOnce") -> Obj:
    spec: Obj = {"accessModes": [access], "capacity": {"storage": size},
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": claim, "namespace": s.ns,
                              "resourceVersion": s.rv(), "uid": s.uid()},
                 "csi": {"driver": driver, "fsType": fstype, "volumeAttributes": {
                     "storage.kubernetes.io/csiProvisionerIdentity": f"{s.unix(created) * 1000}-{s.rng.randint(1000, 9999)}-{driver}"},
                     "volumeHandle": handle},
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": sc, "volumeMode": "Filesystem"}
    if zone_key and zone:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": zone_key, "operator": "In", "values": [zone]}]}]}}
    obj = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {
        "annotations": {"pv.kubernetes.io/provisioned-by": driver, "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                        "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
        "creationTimestamp": s.iso(created), "finalizers": ["kubernetes.io/pv-protection", "external-attacher/" + driver.replace(".", "-")],
        "name": name, "resourceVersion": s.rv(), "uid": s.uid()}, "spec": spec, "status": {"phase": "Bound"}}
    if not s.v("1.29"):
        obj["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": driver}
    s.extra.append(obj)
    return obj


def storageclass(s: Snap, name: str, *, provisioner: str, binding: str = "WaitForFirstConsumer",
                 params: dict[str, str] | None = None, default: bool = False,
                 topologies: list[Obj] | None = None, reclaim: str = "Delete", expand: bool = True) -> Obj:
    meta: Obj = {"creationTimestamp": s.iso(-86400 * 300), "name": name, "resourceVersion": s.rv(), "uid": s.uid()}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    obj: Obj = {"allowVolumeExpansion": expand, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": meta, "parameters": params or {}, "provisioner": provisioner,
                "reclaimPolicy": reclaim, "volumeBindingMode": binding}
    if topologies:
        obj["allowedTopologies"] = topologies
    s.extra.append(obj)
    return obj


def service(s: Snap, name: str, *, selector: dict[str, str], ports: list[tuple[str, int, int | str]],
            cluster_ip: str | None = None, headless: bool = False) -> Obj:
    ip = "None" if headless else (cluster_ip or f"172.20.{s.rng.randint(0, 250)}.{s.rng.randint(2, 250)}")
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "creationTimestamp": s.iso(-86400 * 120), "name": name, "namespace": s.ns, "resourceVersion": s.rv(),
        "uid": s.uid()},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                 "ipFamilyPolicy": "SingleStack",
                 "ports": [{"name": n, "port": p, "protocol": "TCP", "targetPort": t} for n, p, t in ports],
                 "selector": selector, "sessionAffinity": "None", "type": "ClusterIP"},
        "status": {"loadBalancer": {}}}
    s.extra.append(obj)
    return obj


def endpoints(s: Snap, name: str, *, ready: list[tuple[str, str]] | None = None,
              not_ready: list[tuple[str, str]] | None = None, ports: list[tuple[str, int]] | None = None) -> Obj:
    """ready/not_ready: (ip, pod name)."""
    meta: Obj = {"creationTimestamp": s.iso(-86400 * 120), "name": name, "namespace": s.ns,
                 "resourceVersion": s.rv(), "uid": s.uid()}
    obj: Obj = {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta}
    if ready or not_ready:
        sub: Obj = {}

        def addr(ip: str, pod: str) -> Obj:
            return {"ip": ip, "nodeName": s.node or "node", "targetRef": {"kind": "Pod", "name": pod,
                                                                          "namespace": s.ns, "uid": s.uid()}}
        if ready:
            sub["addresses"] = [addr(ip, p) for ip, p in ready]
        if not_ready:
            sub["notReadyAddresses"] = [addr(ip, p) for ip, p in not_ready]
        sub["ports"] = [{"name": n, "port": p, "protocol": "TCP"} for n, p in (ports or [])]
        obj["subsets"] = [sub]
    else:
        meta["annotations"] = {"endpoints.kubernetes.io/last-change-trigger-time": s.iso(-86400 * 2)}
    s.extra.append(obj)
    return obj


def network_policy(s: Snap, name: str, spec: Obj, created: float = -86400) -> Obj:
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {
        "creationTimestamp": s.iso(created), "generation": 1, "name": name, "namespace": s.ns,
        "resourceVersion": s.rv(), "uid": s.uid()}, "spec": spec}
    s.extra.append(obj)
    return obj


def resource_quota(s: Snap, name: str, *, hard: dict[str, str], used: dict[str, str]) -> Obj:
    obj = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {
        "creationTimestamp": s.iso(-86400 * 60), "name": name, "namespace": s.ns, "resourceVersion": s.rv(),
        "uid": s.uid()}, "spec": {"hard": hard}, "status": {"hard": hard, "used": used}}
    s.extra.append(obj)
    return obj


def configmap(s: Snap, name: str, data: dict[str, str] | None = None, created: float = -86400 * 3) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "creationTimestamp": s.iso(created), "name": name, "namespace": s.ns, "resourceVersion": s.rv(),
        "uid": s.uid()}}
    if data is not None:
        obj["data"] = data
    s.extra.append(obj)
    return obj


def role_binding(s: Snap, name: str, *, role: str, sa: str, cluster_role: bool = True) -> Obj:
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {
        "creationTimestamp": s.iso(-86400 * 40), "name": name, "namespace": s.ns, "resourceVersion": s.rv(),
        "uid": s.uid()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole" if cluster_role else "Role",
                    "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": s.ns}]}
    s.extra.append(obj)
    return obj


def role(s: Snap, name: str, rules: list[Obj]) -> Obj:
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {
        "creationTimestamp": s.iso(-86400 * 40), "name": name, "namespace": s.ns, "resourceVersion": s.rv(),
        "uid": s.uid()}, "rules": rules}
    s.extra.append(obj)
    return obj

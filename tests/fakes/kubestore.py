"""The fake API server's state: objects, one cluster-wide resourceVersion, a change history with a compaction horizon.

No HTTP here, and thread-safe: tests write from their own thread while the server's event loop serves watches.
It behaves as the Kubernetes API documents wherever the collector relies on it:

- every write bumps one cluster-wide resourceVersion (the etcd revision) and stamps it on the object as a string;
  a no-op update changes nothing and bumps nothing;
- a DELETED change carries the object with the deletion's resourceVersion;
- the history keeps the changes after the compaction horizon; asking for changes since an older version is
  410 Expired ("too old resource version"), which is what a watch from a stale resourceVersion gets;
- list items carry no ``kind``/``apiVersion`` (the List does);
- ``events.k8s.io/v1`` Events are a second view of the core ``v1`` Events (same objects, uid and versions,
  converted field names);
- ``dryRun`` writes are validated and answered but not persisted.

Known simplifications: strategic merge patches merge lists of named items by ``name`` only, status is writable on
create, deletion is immediate (no grace period, finalizers ignored), lists ignore ``limit``/``continue`` and
``resourceVersionMatch`` (always the most recent state, which the API allows), no admission or schema validation
beyond names, namespaces and ownerReferences.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kmock import KubernetesError

from tests.fakes.selectors import bad_request, field_predicate, label_predicate

Obj = dict[str, Any]
StorageKey = tuple[str, str, str]  # group, version, plural of the stored form
ObjectKey = tuple[StorageKey, str, str]  # storage, namespace ("" when cluster-scoped), name

_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
_REF_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_CORE_EVENT_FIELDS = _META_FIELDS | {
    *(f"involvedObject.{f}" for f in _REF_FIELDS),
    "reason",
    "reportingComponent",
    "source",
    "type",
}
_EVENTS_V1_FIELDS = _META_FIELDS | {
    *(f"regarding.{f}" for f in _REF_FIELDS),
    "reason",
    "reportingController",
    "type",
}
_POD_FIELDS = _META_FIELDS | {
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
}


_SYSTEM_META = ("uid", "name", "namespace", "creationTimestamp")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    field_labels: frozenset[str] = _META_FIELDS
    storage: StorageKey | None = None
    """Where objects of this type are stored when it is another API's view (events.k8s.io → core Events)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> StorageKey:
        return self.storage or (self.group, self.version, self.plural)


def _types() -> dict[StorageKey, ResourceType]:
    table = [
        ResourceType("", "v1", "pods", "Pod", True, _POD_FIELDS),
        ResourceType("", "v1", "events", "Event", True, _CORE_EVENT_FIELDS),
        ResourceType("events.k8s.io", "v1", "events", "Event", True, _EVENTS_V1_FIELDS, ("", "v1", "events")),
        ResourceType("", "v1", "nodes", "Node", False, _META_FIELDS | {"spec.unschedulable"}),
        ResourceType("", "v1", "namespaces", "Namespace", False),
        ResourceType("", "v1", "configmaps", "ConfigMap", True),
        ResourceType("", "v1", "secrets", "Secret", True),
        ResourceType("", "v1", "services", "Service", True),
        ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
        ResourceType("", "v1", "persistentvolumes", "PersistentVolume", False),
        ResourceType("storage.k8s.io", "v1", "storageclasses", "StorageClass", False),
        *(ResourceType("apps", "v1", p, k, True) for p, k in _APPS),
        ResourceType("batch", "v1", "jobs", "Job", True),
        ResourceType("batch", "v1", "cronjobs", "CronJob", True),
        ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
        ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
        ResourceType("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True),  # metrics-server's, read-only there
    ]
    return {(t.group, t.version, t.plural): t for t in table}


_APPS = [("replicasets", "ReplicaSet"), ("deployments", "Deployment"), ("statefulsets", "StatefulSet"),
         ("daemonsets", "DaemonSet")]  # fmt: skip
RESOURCES = _types()


def resource_type(group: str, version: str, plural: str) -> ResourceType:
    try:
        return RESOURCES[(group, version, plural)]
    except KeyError:
        raise KubernetesError(
            status=404, reason="NotFound", message="the server could not find the requested resource", details={}
        ) from None


def resource_of(obj: Obj) -> ResourceType:
    """The resource type of an object by its apiVersion and kind."""
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    group, _, version = api_version.rpartition("/")
    for rtype in RESOURCES.values():
        if (rtype.group, rtype.version, rtype.kind) == (group, version, kind):
            return rtype
    raise bad_request(f"no kind {kind!r} is registered for version {api_version!r}")


# --- events.k8s.io/v1 <-> core/v1 Event ---------------------------------------------------------------------------

_EVENT_RENAMES = [  # (core v1 field, events.k8s.io/v1 field)
    ("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"), ("reportingComponent", "reportingController"),
]  # fmt: skip


def to_view(rtype: ResourceType, obj: Obj) -> Obj:
    """The stored object as this resource type presents it."""
    obj = copy.deepcopy(obj)
    if rtype.storage is None:
        return obj
    for core, new in _EVENT_RENAMES:
        if core in obj:
            obj[new] = obj.pop(core)
    obj["apiVersion"] = rtype.api_version
    return obj


def from_view(rtype: ResourceType, obj: Obj) -> Obj:
    obj = copy.deepcopy(obj)
    if rtype.storage is None:
        return obj
    for core, new in _EVENT_RENAMES:
        if new in obj:
            obj[core] = obj.pop(new)
    obj["apiVersion"] = "v1"
    return obj


# --- patches --------------------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any, *, strategic: bool = False) -> Any:
    """RFC 7386 JSON merge patch; ``strategic`` also merges lists of named items by ``name`` (containers, env...)."""
    if not isinstance(patch, dict):
        if strategic and isinstance(patch, list) and isinstance(target, list) and _named(patch) and _named(target):
            merged = {item["name"]: item for item in target}
            for item in patch:
                merged[item["name"]] = merge_patch(merged.get(item["name"], {}), item, strategic=True)
            return list(merged.values())
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value, strategic=strategic)
    return result


def _named(items: list[Any]) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)


def json_patch(target: Obj, operations: list[Any]) -> Obj:
    """RFC 6902 JSON patch: add, remove, replace, test."""
    doc = copy.deepcopy(target)
    for op in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        kind = op.get("op")
        if kind == "test" and (node[int(last)] if isinstance(node, list) else node.get(last)) != op.get("value"):
            raise KubernetesError(status=422, reason="Invalid", message=f"test failed at {op.get('path')}", details={})
        if kind in ("add", "replace"):
            if isinstance(node, list):
                node.insert(len(node) if last == "-" else int(last), op.get("value"))
                if kind == "replace":
                    del node[int(last) + 1]
            else:
                node[last] = op.get("value")
        elif kind == "remove":
            del node[int(last) if isinstance(node, list) else last]
    return doc


# --- the store ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    rv: int
    storage: StorageKey
    type: str  # ADDED | MODIFIED | DELETED
    obj: Obj
    prev: Obj | None


@dataclass
class KubeStore:
    """Objects plus the ordered history of changes; ``resource_version`` is the last write's revision."""

    first_rv: int = 1000
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)
    _objects: dict[ObjectKey, Obj] = field(default_factory=dict, init=False)
    _history: list[Change] = field(default_factory=list, init=False)
    _listeners: list[Callable[[], None]] = field(default_factory=list, init=False)
    _rv: int = field(default=0, init=False)
    _horizon: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rv = self._horizon = self.first_rv

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def horizon(self) -> int:
        """Watches from a resourceVersion older than this get 410 Expired."""
        return self._horizon

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def compact(self, keep: int = 0) -> int:
        """Forget history up to ``resource_version - keep`` (as etcd compaction does); returns the new horizon."""
        with self._lock:
            self._horizon = max(self._horizon, self._rv - keep)
            self._history = [c for c in self._history if c.rv > self._horizon]
            return self._horizon

    # reads

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> Obj:
        with self._lock:
            obj = self._objects.get((rtype.storage_key, namespace or "", name))
            if obj is None:
                raise _not_found(rtype, name)
            return to_view(rtype, obj)

    def list(
        self, rtype: ResourceType, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> tuple[list[Obj], int]:
        matches = self.matcher(rtype, namespace, label_selector, field_selector)
        with self._lock:
            views = [to_view(rtype, o) for (key, _, _), o in sorted(self._objects.items()) if key == rtype.storage_key]
            return [v for v in views if matches(v)], self._rv

    def matcher(
        self, rtype: ResourceType, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> Callable[[Obj], bool]:
        """A predicate over *views* of ``rtype``; raises the API's 400 for a bad selector."""
        labels = label_predicate(label_selector)
        fields = field_predicate(field_selector, rtype.field_labels, rtype.kind)

        def matches(view: Obj) -> bool:
            meta = view.get("metadata") or {}
            return (
                (namespace is None or meta.get("namespace", "") == namespace)
                and labels(meta.get("labels") or {})
                and fields(view)
            )

        return matches

    def changes_since(self, rv: int, rtype: ResourceType) -> tuple[list[Change], int]:
        """Changes of ``rtype`` after ``rv``, and the revision they bring the reader up to."""
        with self._lock:
            if rv < self._horizon:
                message = f"too old resource version: {rv} ({self._horizon})"
                raise KubernetesError(status=410, reason="Expired", message=message, details={})
            return [c for c in self._history if c.rv > rv and c.storage == rtype.storage_key], self._rv

    # writes

    def create(self, rtype: ResourceType, obj: Obj, namespace: str | None = None, *, dry_run: bool = False) -> Obj:
        obj = from_view(rtype, obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        if not meta.get("name"):
            raise KubernetesError(status=422, reason="Invalid", message="metadata.name: Required value", details={})
        if rtype.namespaced:
            if namespace and meta.get("namespace") not in (None, namespace):
                raise bad_request("the namespace of the provided object does not match the namespace of the request")
            meta["namespace"] = meta.get("namespace") or namespace or "default"
        else:
            meta.pop("namespace", None)
        obj["apiVersion"] = rtype.api_version if rtype.storage is None else "v1"
        obj["kind"] = rtype.kind
        _validate_owners(meta)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta.pop("resourceVersion", None)
        with self._lock:
            key = (rtype.storage_key, meta.get("namespace", ""), meta["name"])
            if key in self._objects:
                raise KubernetesError(
                    status=409, reason="AlreadyExists", message=f'{rtype.plural} "{meta["name"]}" already exists',
                    details={},
                )  # fmt: skip
            if dry_run:
                return to_view(rtype, obj)
            return self._write(rtype, key, "ADDED", obj)

    def replace(self, rtype: ResourceType, namespace: str | None, name: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        obj = from_view(rtype, obj)
        with self._lock:
            key, current = self._current(rtype, namespace, name)
            wanted = (obj.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise KubernetesError(
                    status=409, reason="Conflict", details={},
                    message=f'Operation cannot be fulfilled on {rtype.plural} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                )  # fmt: skip
            meta = obj.setdefault("metadata", {})
            _validate_owners(meta)
            for system in _SYSTEM_META:
                if system in current["metadata"]:
                    meta[system] = current["metadata"][system]
            obj["apiVersion"], obj["kind"] = current["apiVersion"], current["kind"]
            return self._update(rtype, key, current, obj, dry_run)

    def patch(
        self, rtype: ResourceType, namespace: str | None, name: str, patch: Any, content_type: str, *, dry_run: bool
    ) -> Obj:
        with self._lock:
            key, current = self._current(rtype, namespace, name)
            view = to_view(rtype, current)
            if "json-patch" in content_type:
                if not isinstance(patch, list):
                    raise bad_request("a JSON patch must be a list of operations")
                patched = json_patch(view, patch)
            elif isinstance(patch, dict):
                patched = merge_patch(view, patch, strategic="strategic" in content_type)
            else:
                raise bad_request("a merge patch must be a JSON object")
            system = {k: v for k, v in view["metadata"].items() if k in _SYSTEM_META}
            patched["metadata"] = {**patched.get("metadata", {}), **system}
            return self._update(rtype, key, current, from_view(rtype, patched), dry_run)

    def delete(self, rtype: ResourceType, namespace: str | None, name: str, *, dry_run: bool = False) -> Obj:
        with self._lock:
            key, current = self._current(rtype, namespace, name)
            if dry_run:
                return to_view(rtype, current)
            del self._objects[key]
            gone = self._write(rtype, key, "DELETED", copy.deepcopy(current), prev=current)
        return gone

    # internals

    def _current(self, rtype: ResourceType, namespace: str | None, name: str) -> tuple[ObjectKey, Obj]:
        key = (rtype.storage_key, namespace or "", name)
        current = self._objects.get(key)
        if current is None:
            raise _not_found(rtype, name)
        return key, current

    def _update(self, rtype: ResourceType, key: ObjectKey, current: Obj, new: Obj, dry: bool) -> Obj:
        new.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
        if new == current or dry:  # a no-op write changes nothing, not even the resourceVersion
            return to_view(rtype, new)
        return self._write(rtype, key, "MODIFIED", new, prev=current)

    def _write(self, rtype: ResourceType, key: ObjectKey, kind: str, obj: Obj, prev: Obj | None = None) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        if kind != "DELETED":
            self._objects[key] = obj
        self._history.append(Change(self._rv, rtype.storage_key, kind, copy.deepcopy(obj), prev))
        for listener in self._listeners:
            listener()
        return to_view(rtype, obj)


def _validate_owners(meta: Obj) -> None:
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        missing = [f for f in ("apiVersion", "kind", "name", "uid") if not ref.get(f)]
        if missing:
            message = f'metadata.ownerReferences[{i}].{missing[0]}: Invalid value: "": must not be empty'
            raise KubernetesError(status=422, reason="Invalid", message=message, details={})


def _not_found(rtype: ResourceType, name: str) -> KubernetesError:
    group = f".{rtype.group}" if rtype.group else ""
    return KubernetesError(
        status=404, reason="NotFound", message=f'{rtype.plural}{group} "{name}" not found',
        details={"name": name, "group": rtype.group, "kind": rtype.plural},
    )  # fmt: skip


def translate(change: Change, view: Callable[[Obj], Obj], matches: Callable[[Obj], bool]) -> tuple[str, Obj] | None:
    """How a watch with a selector sees a change: objects entering the selection are ADDED, leaving it DELETED."""
    new = view(change.obj)
    was = change.prev is not None and matches(view(change.prev))
    now = matches(new)
    if change.type == "ADDED":
        return ("ADDED", new) if now else None
    if change.type == "DELETED":
        return ("DELETED", new) if was or now else None
    if was and now:
        return "MODIFIED", new
    if now:
        return "ADDED", new
    return ("DELETED", new) if was else None

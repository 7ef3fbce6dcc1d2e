"""What the watcher has already seen, so a reconnect or a relist neither repeats nor loses an incident.

Pure apart from a lock (the pod, event and node streams share one tracker). Two memories:

- per object, the (uid, resourceVersion) last handled: the same version delivered again (a relist after 410, a
  replayed event) is *deduplicated*, without comparing versions numerically (the API says they are opaque);
- per subject (``Pod/ns/name``, ``Node/name``...), the failure families already reported: the ``BackOff`` event
  and the ``CrashLoopBackOff`` status of one pod, and the hundred status updates of a crash loop, are one
  detection. A family is forgotten when the subject is seen healthy again or deleted, so a recurrence after
  recovery is a new detection.

A relist is compared with this memory: objects with a new version go through detection (a change made while the
watch was down is not missed), unchanged ones are deduplicated, vanished ones are forgotten.

Every received object is counted once: ``received == detected + deduplicated + filtered + noise``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from aetherius.snapshots import KubeObject
from collectors.kube.detecting import Detection, Policy, detect, is_healthy
from collectors.kube.filters import WatchFilters

ObjectKey = tuple[str, str, str]  # stream kind, namespace, name


@dataclass
class WatchCounters:
    received: int = 0
    detected: int = 0
    deduplicated: int = 0
    filtered: int = 0
    noise: int = 0
    bookmarks: int = 0
    relists: int = 0
    reconnects: int = 0
    errors: int = 0
    sink_errors: int = 0

    def reconciles(self) -> bool:
        return self.received == self.detected + self.deduplicated + self.filtered + self.noise

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Tracker:
    def __init__(
        self,
        *,
        cluster: str,
        filters: WatchFilters | None = None,
        policy: Policy | None = None,
        now: Callable[[], datetime],
    ) -> None:
        self.cluster = cluster
        self.filters = filters or WatchFilters()
        self.policy = policy or Policy()
        self.counters = WatchCounters()
        self._now = now
        self._lock = threading.Lock()
        self._versions: dict[ObjectKey, tuple[str, str]] = {}
        self._active: dict[str, set[str]] = {}
        self._pods: dict[tuple[str, str], KubeObject] = {}

    def bump(self, counter: str) -> None:
        with self._lock:
            setattr(self.counters, counter, getattr(self.counters, counter) + 1)

    def observe(self, kind: str, event_type: str, obj: KubeObject) -> Detection | None:
        """One object from a watch (``ADDED``/``MODIFIED``/``DELETED``) or a list."""
        with self._lock:
            return self._observe(kind, event_type, obj)

    def relist(self, kind: str, items: list[KubeObject]) -> list[Detection]:
        """A fresh list of ``kind``: compare with memory, forget what vanished while we were not watching."""
        with self._lock:
            found = [d for item in items if (d := self._observe(kind, "ADDED", item)) is not None]
            present = {_key(kind, item) for item in items}
            for key in [k for k in self._versions if k[0] == kind and k not in present]:
                self._forget_object(key)
            return found

    def forget(self, detection: Detection) -> None:
        """The sink could not take it: let the next change of the subject report it again."""
        with self._lock:
            self._active.get(detection.subject, set()).discard(detection.family)

    def _observe(self, kind: str, event_type: str, obj: KubeObject) -> Detection | None:
        counters = self.counters
        counters.received += 1
        key = _key(kind, obj)
        meta = obj.get("metadata") or {}
        version = (str(meta.get("uid") or ""), str(meta.get("resourceVersion") or ""))
        if event_type == "DELETED":
            self._forget_object(key)
            counters.noise += 1
            return None
        previous = self._versions.get(key)
        if previous == version and version[1]:
            counters.deduplicated += 1
            return None
        if previous is not None and previous[0] != version[0]:  # same name, new object: a fresh start
            self._active.pop(_subject(kind, obj), None)
        self._versions[key] = version
        if kind == "pods":  # what events about it need: labels (filters) and owners (workload)
            keep = {k: meta[k] for k in ("name", "namespace", "labels", "ownerReferences") if k in meta}
            self._pods[(key[1], key[2])] = {"kind": "Pod", "metadata": keep}
        if not self.filters.admits(*self._scope(kind, obj)):
            counters.filtered += 1
            return None
        pod = self._pods.get(_event_pod(obj)) if kind == "events" else None
        detection = detect(obj, cluster=self.cluster, now=self._now(), policy=self.policy, pod=pod)
        if detection is None:
            if kind in ("pods", "nodes") and is_healthy(obj):
                self._active.pop(_subject(kind, obj), None)
            counters.noise += 1
            return None
        families = self._active.setdefault(detection.subject, set())
        if detection.family in families:
            counters.deduplicated += 1
            return None
        families.add(detection.family)
        counters.detected += 1
        return detection

    def _scope(self, kind: str, obj: KubeObject) -> tuple[str, dict[str, str] | None]:
        """(namespace, labels) the filters judge: an event is judged as the pod it is about."""
        meta = obj.get("metadata") or {}
        if kind == "pods":
            return str(meta.get("namespace") or ""), dict(meta.get("labels") or {})
        if kind == "events":
            about = obj.get("involvedObject") or obj.get("regarding") or {}
            if about.get("kind") == "Node":
                return "", None
            namespace = str(about.get("namespace") or meta.get("namespace") or "")
            pod = self._pods.get((namespace, str(about.get("name") or ""))) if about.get("kind") == "Pod" else None
            labels = (pod.get("metadata") or {}).get("labels") if pod is not None else None
            return namespace, (dict(labels or {}) if pod is not None else None)
        return "", None

    def _forget_object(self, key: ObjectKey) -> None:
        self._versions.pop(key, None)
        if key[0] == "pods":
            self._pods.pop((key[1], key[2]), None)
            self._active.pop(f"Pod/{key[1]}/{key[2]}", None)
        elif key[0] == "nodes":
            self._active.pop(f"Node/{key[2]}", None)


def _key(kind: str, obj: KubeObject) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _subject(kind: str, obj: KubeObject) -> str:
    _, namespace, name = _key(kind, obj)
    return f"Node/{name}" if kind == "nodes" else f"Pod/{namespace}/{name}"


def _event_pod(event: dict[str, Any]) -> tuple[str, str]:
    about = event.get("involvedObject") or event.get("regarding") or {}
    return str(about.get("namespace") or ""), str(about.get("name") or "")

"""Who owns a pod: the controller reference, and the workload a person would name (Deployment, not ReplicaSet).

Pure. When only a ReplicaSet reference is at hand, ``name-<pod-template-hash>`` is read as Deployment ``name``; a
Job named ``name-<scheduled minute>`` as CronJob ``name``. Kubernetes builds both names that way (the hash uses its
"safe" alphabet without vowels), so the guess is right for controller-made objects and falls back to the owner
itself when the suffix does not fit.
"""

from __future__ import annotations

import re
from typing import Any

OWNER_RESOURCES = {
    "ReplicaSet": "replicasets",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
}
"""Owner kinds the collector follows, by the plural resource it reads them from."""

_TEMPLATE_HASH = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]{5,10}$")
_CRON_SUFFIX = re.compile(r"^\d{8,}$")


def controller_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The ownerReference with ``controller: true``, else the first one, else None."""
    refs = [r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if isinstance(r, dict)]
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def workload_of_owner(kind: str, name: str) -> tuple[str, str]:
    """The workload behind a direct owner: ReplicaSet ``web-7d9f8c6b5`` → Deployment ``web``."""
    base, _, suffix = name.rpartition("-")
    if kind == "ReplicaSet" and base and _TEMPLATE_HASH.match(suffix):
        return "Deployment", base
    if kind == "Job" and base and _CRON_SUFFIX.match(suffix):
        return "CronJob", base
    return kind, name


def workload_of(obj: dict[str, Any]) -> tuple[str, str]:
    """The workload of a pod (or any owned object); an unowned object is its own workload."""
    ref = controller_ref(obj)
    if ref is None:
        return str(obj.get("kind") or "Pod"), str((obj.get("metadata") or {}).get("name") or "")
    return workload_of_owner(str(ref.get("kind") or ""), str(ref.get("name") or ""))

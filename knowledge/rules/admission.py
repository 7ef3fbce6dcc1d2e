"""The controller cannot create pods at all: admission refuses them before the scheduler ever sees one.

The pods that exist may run fine; the failure is in the owner's ``FailedCreate`` events (a ReplicaSet, Job,
StatefulSet or DaemonSet). "forbidden" there is admission talking, not RBAC: a ResourceQuota that would be
exceeded, a LimitRange, Pod Security, a validating webhook, a ServiceAccount that does not exist.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Event, Signals
from aetherius.taxonomy import Category
from knowledge.rules.base import event_evidence, finding, recent

_CONTROLLERS = ("ReplicaSet", "Job", "StatefulSet", "DaemonSet", "ReplicationController")
_QUOTA = re.compile(
    r"exceeded quota: (?P<quota>[\w.-]+)(?:, requested: (?P<requested>[^,]+))?|"
    r"must specify (?:limits|requests)[\w.,: ]*|maximum (?:cpu|memory) usage per (?:Container|Pod)|"
    r"minimum (?:cpu|memory) usage per (?:Container|Pod)",
    re.IGNORECASE,
)
_POLICY = re.compile(
    r"violates PodSecurity|pod security|unable to validate against any pod security policy|"
    r"admission webhook \"?[\w.-]+\"? denied|denied the request|error looking up service account",
    re.IGNORECASE,
)
_MECHANISMS: tuple[tuple[str, Category, float, re.Pattern[str]], ...] = (
    ("quota", "scheduling", 0.88, _QUOTA),
    ("admission_policy", "config_error", 0.8, _POLICY),
)


def _failed_creates(sig: Signals) -> list[Event]:
    return [
        e
        for e in sig.events
        if e.object_kind in _CONTROLLERS and e.reason == "FailedCreate" and e.type == "Warning" and recent(e)
    ]


def owner_cannot_create_pods(sig: Signals) -> list[Finding]:
    events = _failed_creates(sig)
    out: list[Finding] = []
    for name, category, weight, pattern in _MECHANISMS:
        hits = [e for e in events if pattern.search(e.message)]
        if not hits:
            continue
        match = pattern.search(hits[0].message)
        quota = match.groupdict().get("quota") if match else None
        requested = match.groupdict().get("requested") if match else None
        owner = hits[0]
        out.append(
            finding(
                f"owner_cannot_create_pods:{name}",
                category,
                weight,
                [event_evidence(e) for e in sorted(hits, key=lambda e: -e.count)[:2]],
                admission=name,
                controller=f"{owner.object_kind}/{owner.object_name}",
                quota=quota,
                quota_requested=requested.strip() if requested else None,
                scheduling_reason="quota" if name == "quota" else None,
            )
        )
    return out

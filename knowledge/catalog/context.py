"""What a planner needs to know about the incident, resolved once: namespace, workload, container and facts.

The workload is the *top* owner (Deployment, StatefulSet, CronJob...), because that is what a human changes: a
patch to a ReplicaSet or a Pod is reverted by its controller. When the snapshot only names a ReplicaSet, the
Deployment is inferred from the pod-template-hash suffix Kubernetes appends to its name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aetherius.diagnoses import Finding
from aetherius.signals import Container, Owner, Signals
from aetherius.taxonomy import Category

_POD_TEMPLATE_HASH = re.compile(r"^(?P<base>[a-z0-9]([-a-z0-9.]*[a-z0-9])?)-[bcdfghjklmnpqrstvwxz2456789]{6,10}$")
_CRONJOB_RUN = re.compile(r"^(?P<base>[a-z0-9]([-a-z0-9.]*[a-z0-9])?)-\d{8,}$")
ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
TEMPLATE_KINDS = (*ROLLOUT_KINDS, "ReplicaSet", "ReplicationController", "CronJob")
"""Kinds whose pod template can change in place; a bare Pod or a Job must be recreated."""


@dataclass(frozen=True, slots=True)
class Workload:
    kind: str
    name: str
    inferred: bool = False
    replicas: int | None = None
    ready_replicas: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def rollout(self) -> bool:
        return self.kind in ROLLOUT_KINDS

    @property
    def mutable(self) -> bool:
        return self.kind in TEMPLATE_KINDS

    @property
    def controlled(self) -> bool:
        return self.kind != "Pod"


@dataclass(frozen=True, slots=True)
class Context:
    category: Category
    signals: Signals
    findings: tuple[Finding, ...]
    facts: Mapping[str, Any]
    workload: Workload
    container: Container | None
    container_name: str

    @property
    def namespace(self) -> str:
        return self.signals.namespace or "default"

    @property
    def pod(self) -> str:
        return self.signals.pod

    @property
    def node(self) -> str:
        return self.text("node") or self.signals.node_name or (self.signals.node.name if self.signals.node else "")

    @property
    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    @property
    def mechanism(self) -> str:
        return self.text("mechanism")

    @property
    def evidence(self) -> str:
        return "\n".join(e for f in self.findings for e in f.evidence)

    @property
    def log_text(self) -> str:
        """The container's captured log lines (error lines first), for details the evidence cut short."""
        lines = [*self.signals.log_errors, *self.signals.log_tail]
        return "\n".join(ln.text for ln in lines if ln.container == self.container_name)

    @property
    def replicaset(self) -> Owner | None:
        return next((o for o in self.signals.owners if o.kind == "ReplicaSet"), None)

    def text(self, key: str) -> str:
        value = self.facts.get(key)
        return str(value) if value is not None and not isinstance(value, bool) else ""

    def number(self, key: str) -> float | None:
        value = self.facts.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def flag(self, key: str) -> bool:
        return self.facts.get(key) is True

    def kubectl(self, *args: str) -> str:
        return " ".join(("kubectl", "-n", self.namespace, *args))

    def base_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"namespace": self.namespace, "workload": self.workload.label, "pod": self.pod}
        if self.container_name:
            params["container"] = self.container_name
        if self.workload.inferred:
            params["workload_inferred"] = True
        return params


def merge_facts(findings: list[Finding]) -> dict[str, Any]:
    """Facts of all findings, the strongest finding's value winning on conflicts; a flag any finding raised
    (``dns``, ``node_oom``, ``multi_attach``) stays raised, since a weaker finding may be the one that saw it."""
    merged: dict[str, Any] = {}
    for f in sorted(findings, key=lambda f: -f.weight):
        for key, value in f.facts.items():
            if value is None:
                continue
            if value is True and merged.get(key) is False:
                merged[key] = True
            else:
                merged.setdefault(key, value)
    return merged


def resolve_workload(signals: Signals) -> Workload:
    if not signals.owners:
        return Workload("Pod", signals.pod or "unknown")
    top = signals.owners[-1]
    counted = next((o for o in reversed(signals.owners) if o.replicas is not None), None)
    replicas, ready = (counted.replicas, counted.ready_replicas) if counted else (None, None)
    if top.kind == "ReplicaSet" and (match := _POD_TEMPLATE_HASH.match(top.name)):
        return Workload("Deployment", match.group("base"), True, replicas, ready)
    if top.kind == "Job" and (match := _CRONJOB_RUN.match(top.name)):
        return Workload("CronJob", match.group("base"), True, replicas, ready)
    return Workload(top.kind, top.name, False, replicas, ready)


def resolve_container(signals: Signals, facts: Mapping[str, Any]) -> tuple[Container | None, str]:
    named = facts.get("container")
    if isinstance(named, str) and named:
        return signals.container(named), named
    chosen = next((c for c in signals.containers if c.failing), None)
    chosen = chosen or next((c for c in signals.containers if not c.init), None)
    chosen = chosen or (signals.containers[0] if signals.containers else None)
    return chosen, chosen.name if chosen else ""


def build_context(category: Category, findings: list[Finding], signals: Signals) -> Context:
    facts = merge_facts(findings)
    container, name = resolve_container(signals, facts)
    ordered = tuple(sorted(findings, key=lambda f: -f.weight))
    return Context(category, signals, ordered, facts, resolve_workload(signals), container, name)

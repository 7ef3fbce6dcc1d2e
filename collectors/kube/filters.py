"""Which objects the collector looks at: namespaces to include/exclude and pod labels to include/exclude.

Applied client-side, on one cluster-wide watch per kind, for two reasons: every object filtered out is *counted*
(so ``received == detected + deduplicated + filtered + noise`` holds), and Events, which carry no pod labels, can
be filtered by the labels of the pod they are about. Cluster-scoped objects (Nodes and their events) are never
filtered by namespace: a sick node matters to every namespace on it.

Label selectors use the API's syntax: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aetherius.errors import ConfigurationError
from aetherius.settings import Settings

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_EQUALS = re.compile(rf"^({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")

Requirement = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True)
class LabelSelector:
    text: str
    requirements: tuple[Requirement, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        parts = [p.strip() for p in re.split(r",(?![^()]*\))", text) if p.strip()]
        return cls(text, tuple(_requirement(part, text) for part in parts))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement(labels) for requirement in self.requirements)


def _requirement(part: str, whole: str) -> Requirement:
    if m := _SET.match(part):
        key, negate = m.group(1), m.group(3) == "notin"
        values = frozenset(v.strip() for v in m.group(4).split(",") if v.strip())
        return lambda labels: (labels.get(key) in values) != negate
    if m := _EQUALS.match(part):
        key, negate, value = m.group(1), m.group(3) == "!=", m.group(4)
        return lambda labels: (labels.get(key) == value) != negate
    if m := _EXISTS.match(part):
        negate, key = m.group(1) == "!", m.group(2)
        return lambda labels: (key in labels) != negate
    raise ConfigurationError(f"invalid label selector {whole!r}: cannot read {part!r}")


@dataclass(frozen=True)
class WatchFilters:
    namespaces: frozenset[str] = frozenset()
    """Only these namespaces (empty: all)."""
    exclude_namespaces: frozenset[str] = frozenset()
    include: LabelSelector | None = None
    exclude: LabelSelector | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WatchFilters:
        return cls(
            namespaces=frozenset(settings.namespaces),
            exclude_namespaces=frozenset(settings.exclude_namespaces),
            include=LabelSelector.parse(settings.label_selector) if settings.label_selector else None,
            exclude=LabelSelector.parse(settings.exclude_label_selector) if settings.exclude_label_selector else None,
        )

    def admits(self, namespace: str, labels: Mapping[str, str] | None) -> bool:
        """``namespace`` is "" for cluster-scoped objects; ``labels`` is None when they are unknown (not checked)."""
        if namespace and self.namespaces and namespace not in self.namespaces:
            return False
        if namespace and namespace in self.exclude_namespaces:
            return False
        if labels is None:
            return True
        if self.include is not None and not self.include.matches(labels):
            return False
        return not (self.exclude is not None and self.exclude.matches(labels))

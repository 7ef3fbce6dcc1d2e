"""Labelled Snapshot corpus generator: builders (snap, objects, extras, series, logs, stories, render) and case
families (demo_*, c_* modules), each case a small function registered with @case."""

from __future__ import annotations

from collections.abc import Callable

from .snap import Snap

REGISTRY: dict[str, list[Callable[[], Snap]]] = {"demo": [], "corpus": []}


def case(group: str) -> Callable[[Callable[[], Snap]], Callable[[], Snap]]:
    def deco(fn: Callable[[], Snap]) -> Callable[[], Snap]:
        REGISTRY[group].append(fn)
        return fn
    return deco

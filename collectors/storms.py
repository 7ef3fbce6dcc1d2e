"""Storm control: when one namespace (or one cluster) opens more than N new incidents in T seconds, the rest of
the burst rolls up into a single storm incident that lists its members, instead of N pages.

Pure and clock-injected: the caller passes ``now``. Only *new* incidents count: repeats of an open incident are
occurrences, already deduplicated by fingerprint before they get here.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class StormVerdict:
    storm: bool
    scope: str
    """``cluster/namespace`` or ``cluster`` — the storm incident's identity."""
    count: int
    """New incidents seen in this scope within the window, this one included."""

    @property
    def fingerprint(self) -> str:
        return f"storm:{self.scope}"


class StormControl:
    def __init__(self, threshold: int, window_s: float, *, cluster_threshold: int | None = None) -> None:
        if threshold < 1 or window_s <= 0:
            raise ValueError("storm threshold must be >= 1 and the window > 0 s")
        self._threshold = threshold
        self._cluster_threshold = cluster_threshold or threshold * 3
        self._window = window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, cluster: str, namespace: str, now: float) -> StormVerdict:
        """Account one new incident; say whether it belongs to a storm (and which)."""
        with self._lock:
            ns_scope = f"{cluster}/{namespace}"
            ns_count = self._count(ns_scope, now)
            cluster_count = self._count(cluster, now)
        if ns_count > self._threshold:
            return StormVerdict(True, ns_scope, ns_count)
        if cluster_count > self._cluster_threshold:
            return StormVerdict(True, cluster, cluster_count)
        return StormVerdict(False, ns_scope, ns_count)

    def _count(self, scope: str, now: float) -> int:
        times = self._seen.setdefault(scope, deque())
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        return len(times)

"""Reduce Prometheus range series to the few numbers rules need (peaks, throttling ratio, usage rates).

Counters may reset across container restarts and samples may have gaps: rates use only positive deltas.
"""

from __future__ import annotations

from collections.abc import Iterable

from aetherius.snapshots import MetricSeries


def _step(prev: float, cur: float) -> float:
    """A counter's growth between two samples. A drop to under half is a reset (the new run counted ``cur``); a
    smaller dip is scrape jitter between replicas or series, and counts as no growth."""
    if cur >= prev:
        return cur - prev
    return cur if cur < prev * 0.5 else 0.0


def counter_increase(values: list[tuple[float, float]]) -> float:
    """Increase of a counter over the window, tolerant of resets and of jitter."""
    return sum(_step(prev, cur) for (_, prev), (_, cur) in zip(values, values[1:], strict=False))


def increase(series: Iterable[MetricSeries]) -> float | None:
    """Total increase of a counter over all its series, or None when there is no series at all."""
    found = [s for s in series if s.values]
    return sum(counter_increase(s.values) for s in found) if found else None


def span(values: list[tuple[float, float]]) -> float:
    return values[-1][0] - values[0][0] if len(values) > 1 else 0.0


def peak(series: Iterable[MetricSeries]) -> float | None:
    peaks = [max(v for _, v in s.values) for s in series if s.values]
    return max(peaks) if peaks else None


def minimum(series: Iterable[MetricSeries]) -> float | None:
    lows = [min(v for _, v in s.values) for s in series if s.values]
    return min(lows) if lows else None


def last(series: Iterable[MetricSeries]) -> float | None:
    ends = [(s.values[-1][0], s.values[-1][1]) for s in series if s.values]
    return max(ends)[1] if ends else None


def throttle_ratio(throttled: list[MetricSeries], periods: list[MetricSeries]) -> float | None:
    """Fraction of CFS periods in which the container was throttled, over the whole window (0..1).

    Interval by interval: an interval counts at most as many throttled periods as periods elapsed in it, so a
    throttled counter that resets or dips on its own cannot push the ratio past 1."""
    elapsed: dict[float, float] = {}
    for s in periods:
        for (_, prev), (t, cur) in zip(s.values, s.values[1:], strict=False):
            elapsed[t] = elapsed.get(t, 0.0) + _step(prev, cur)
    if not elapsed:
        return None
    hit: dict[float, float] = {}
    for s in throttled:
        for (_, prev), (t, cur) in zip(s.values, s.values[1:], strict=False):
            hit[t] = hit.get(t, 0.0) + _step(prev, cur)
    total = sum(elapsed.values())
    if total <= 0:
        return None
    if hit and not set(hit) & set(elapsed):  # samples at other instants: compare the totals, bounded
        return min(1.0, sum(hit.values()) / total)
    return sum(min(hit.get(t, 0.0), d) for t, d in elapsed.items()) / total


def usage_cores(usage: list[MetricSeries]) -> float | None:
    """Average CPU cores used over the window (from container_cpu_usage_seconds_total)."""
    rates = [counter_increase(s.values) / span(s.values) for s in usage if span(s.values) > 0]
    return sum(rates) if rates else None

"""Reduce Prometheus range series to the few numbers rules need (peaks, throttling ratio, usage rates).

Counters may reset across container restarts and samples may have gaps: rates use only positive deltas.
"""

from __future__ import annotations

from collections.abc import Iterable

from aetherius.snapshots import MetricSeries


def counter_increase(values: list[tuple[float, float]]) -> float:
    """Increase of a counter over the window, tolerant of resets (a drop starts a new run)."""
    total = 0.0
    for (_, prev), (_, cur) in zip(values, values[1:], strict=False):
        total += cur - prev if cur >= prev else cur
    return total


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
    """Fraction of CFS periods in which the container was throttled, over the whole window."""
    t = sum(counter_increase(s.values) for s in throttled)
    p = sum(counter_increase(s.values) for s in periods)
    return t / p if p > 0 else None


def usage_cores(usage: list[MetricSeries]) -> float | None:
    """Average CPU cores used over the window (from container_cpu_usage_seconds_total)."""
    rates = [counter_increase(s.values) / span(s.values) for s in usage if span(s.values) > 0]
    return sum(rates) if rates else None

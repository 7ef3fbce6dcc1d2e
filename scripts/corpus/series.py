"""Prometheus range matrices with realistic noise, gaps and counter resets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .snap import Obj, Snap

Fn = Callable[[float], "float | None"]

MI = 1024 * 1024
GI = 1024 * MI


def labels(s: Snap, container: str | None, *, node: bool = True, pod: bool = True, **extra: str) -> Obj:
    lab: Obj = {"namespace": s.ns}
    if container is not None:
        lab["container"] = container
    if pod:
        lab["pod"] = s.pod_name
    if node and s.node:
        lab["node"] = s.node
    lab.update(extra)
    return lab


def _fmt(v: float, kind: str) -> str:
    if kind == "int":
        return str(int(round(v)))
    out = f"{v:.6f}".rstrip("0").rstrip(".")
    return out or "0"


def add(s: Snap, name: str, lab: Obj, values: list[list[object]]) -> Obj:
    m = {"metric": {"__name__": name, **lab}, "values": values}
    s.metrics.append(m)
    return m


def sample(s: Snap, fn: Fn, start: float, end: float = 0, step: int = 30, *, noise: float = 0.0,
           kind: str = "int", gaps: float = 0.0, floor: float | None = None, cap: float | None = None) -> list[list[object]]:
    out: list[list[object]] = []
    t = start
    while t <= end:
        v = fn(t)
        if v is not None and not (gaps and s.rng.random() < gaps):
            v = v * (1 + s.rng.gauss(0, noise)) if noise else v
            if floor is not None:
                v = max(floor, v)
            if cap is not None:
                v = min(cap, v)
            out.append([s.unix(t), _fmt(v, kind)])
        t += step
    return out


def gauge(s: Snap, name: str, lab: Obj, fn: Fn, start: float, end: float = 0, step: int = 30, **kw: object) -> Obj:
    return add(s, name, lab, sample(s, fn, start, end, step, **kw))  # type: ignore[arg-type]


def ramp(runs: Sequence[tuple[float, float]], base: float, peak: float, *, curve: float = 1.0,
         after: float | None = None) -> Fn:
    """Memory that climbs from base to peak over each run (start, end); None between runs.

    after: value for a final open-ended run (start given as last run with end=+inf) handled by caller.
    """
    def fn(t: float) -> float | None:
        for a, b in runs:
            if a <= t <= b:
                frac = (t - a) / max(1.0, b - a)
                return base + (peak - base) * (frac ** curve)
        return after
    return fn


def running_in(runs: Sequence[tuple[float, float]], value: Fn) -> Fn:
    def fn(t: float) -> float | None:
        return value(t) if any(a <= t <= b for a, b in runs) else None
    return fn


def counter(s: Snap, rate: Fn, start: float, end: float = 0, step: int = 30, *, resets: Sequence[float] = (),
            noise: float = 0.03, kind: str = "float", initial: float = 0.0) -> list[list[object]]:
    """Cumulative counter from a per-second rate; drops to ~0 at each reset offset (container restart)."""
    out: list[list[object]] = []
    total = initial
    pending = sorted(resets)
    t = start
    while t <= end:
        while pending and pending[0] <= t:
            pending.pop(0)
            total = 0.0
        r = rate(t)
        if r is None:
            t += step
            continue
        total += max(0.0, r * step * (1 + s.rng.gauss(0, noise)))
        out.append([s.unix(t), _fmt(total, kind)])
        t += step
    return out


def cpu_pack(s: Snap, container: str, *, usage: Fn, throttled_frac: Fn, start: float, end: float = 0,
             step: int = 60, resets: Sequence[float] = (), limit: float | None = None,
             node: bool = True, periods_per_s: float = 10.0) -> None:
    """container_cpu_usage_seconds_total + cfs periods/throttled counters (+ the limit gauge) for one container."""
    lab = labels(s, container, node=node)
    add(s, "container_cpu_usage_seconds_total", lab,
        counter(s, usage, start, end, step, resets=resets, noise=0.02))
    periods: list[list[object]] = []
    throttled: list[list[object]] = []
    tp = tt = 0.0
    pending = sorted(resets)
    t = start
    while t <= end:
        while pending and pending[0] <= t:
            pending.pop(0)
            tp = tt = 0.0
        u = usage(t)
        if u is not None:
            n = periods_per_s * step * (0.985 + 0.015 * s.rng.random())
            f = throttled_frac(t) or 0.0
            tp += n
            tt += n * min(1.0, max(0.0, f + s.rng.gauss(0, 0.015)))
            periods.append([s.unix(t), str(int(tp))])
            throttled.append([s.unix(t), str(int(tt))])
        t += step
    add(s, "container_cpu_cfs_periods_total", lab, periods)
    add(s, "container_cpu_cfs_throttled_periods_total", lab, throttled)
    if limit is not None:
        add(s, "kube_pod_container_resource_limits", {**lab, "resource": "cpu", "unit": "core"},
            sample(s, lambda t: limit, start, end, step, kind="float"))


def mem_limit(s: Snap, container: str, limit_bytes: int, start: float, end: float = 0, step: int = 60) -> None:
    add(s, "kube_pod_container_resource_limits", {**labels(s, container), "resource": "memory", "unit": "byte"},
        sample(s, lambda t: limit_bytes, start, end, step))


def volume_stats(s: Snap, claim: str, *, capacity: int, avail: Fn, start: float, end: float = 0, step: int = 60,
                 inodes: tuple[int, Fn] | None = None) -> None:
    lab = {"namespace": s.ns, "persistentvolumeclaim": claim, "node": s.node, "job": "kubelet",
           "metrics_path": "/metrics"}
    add(s, "kubelet_volume_stats_capacity_bytes", lab, sample(s, lambda t: capacity, start, end, step))
    add(s, "kubelet_volume_stats_available_bytes", lab, sample(s, avail, start, end, step, noise=0.0005, floor=0))
    if inodes:
        add(s, "kubelet_volume_stats_inodes_free", lab, sample(s, inodes[1], start, end, step, floor=0))


def node_fs(s: Snap, *, avail: Fn, size: int, start: float, end: float = 0, step: int = 60, mount: str = "/",
            device: str = "/dev/nvme0n1p1", fstype: str = "xfs", instance: str | None = None,
            files_free: Fn | None = None) -> None:
    lab = {"device": device, "fstype": fstype, "instance": instance or f"{s.host_ip or '10.0.0.10'}:9100",
           "job": "node-exporter", "mountpoint": mount, "node": s.node}
    add(s, "node_filesystem_size_bytes", lab, sample(s, lambda t: size, start, end, step))
    add(s, "node_filesystem_avail_bytes", lab, sample(s, avail, start, end, step, noise=0.002, floor=0))
    if files_free:
        add(s, "node_filesystem_files_free", lab, sample(s, files_free, start, end, step, floor=0))

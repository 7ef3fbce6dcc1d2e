"""Plain-text readouts of Kubernetes objects for ``/aeth describe`` and ``/aeth top`` (pure, from dicts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aetherius.quantities import format_bytes, format_cores, parse_quantity


def _state(status: Mapping[str, Any]) -> str:
    for name in ("waiting", "running", "terminated"):
        detail = (status.get("state") or {}).get(name)
        if detail is not None:
            extra = ", ".join(f"{k}={detail[k]}" for k in ("reason", "exitCode", "message") if detail.get(k))
            return f"{name}" + (f" ({extra})" if extra else "")
    return "unknown"


def describe_text(pod: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> str:
    """Conditions, container states (with the last termination) and events, like a short ``kubectl describe``."""
    meta, status, node = pod.get("metadata") or {}, pod.get("status") or {}, (pod.get("spec") or {}).get("nodeName")
    lines = [
        f"Name: {meta.get('name')}  Namespace: {meta.get('namespace')}  Node: {node}",
        f"Phase: {status.get('phase')}  QoS: {status.get('qosClass', '-')}",
        "Conditions:",
    ]
    lines += [
        f"  {c.get('type')}={c.get('status')} {c.get('reason') or ''}".rstrip() for c in status.get("conditions") or []
    ]
    lines.append("Containers:")
    for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        lines.append(f"  {c.get('name')}: {_state(c)}, ready={c.get('ready')}, restarts={c.get('restartCount', 0)}")
        last = (c.get("lastState") or {}).get("terminated")
        if last:
            lines.append(
                f"    last terminated: {last.get('reason')} exit {last.get('exitCode')} at {last.get('finishedAt')}"
            )
    lines.append("Events:")
    for e in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        count = e.get("count") or (e.get("series") or {}).get("count") or 1
        note = e.get("message") or e.get("note") or ""
        lines.append(f"  {e.get('type', '')} {e.get('reason', '')} (x{count}): {note}")
    return "\n".join(lines)


def top_text(pod_metrics: Iterable[Mapping[str, Any]]) -> str:
    """``metrics.k8s.io`` PodMetrics items → one line per container, CPU in cores/millicores and memory in binary
    units like ``kubectl top`` (metrics-server reports nanocores and Ki), heaviest memory first."""
    rows: list[tuple[float, str, str, str]] = []
    for item in pod_metrics:
        name = (item.get("metadata") or {}).get("name")
        for c in item.get("containers") or []:
            usage = c.get("usage") or {}
            cpu, memory = parse_quantity(usage.get("cpu")), parse_quantity(usage.get("memory"))
            rows.append((
                memory or 0.0, f"{name}/{c.get('name')}",
                format_cores(cpu) if cpu is not None else "-", format_bytes(memory) if memory is not None else "-",
            ))  # fmt: skip
    if not rows:
        return "no metrics for pods in this namespace (is metrics-server installed?)"
    width = max(len(row[1]) for row in rows)
    lines = [f"{'POD/CONTAINER':<{width}}  {'CPU':>6}  {'MEMORY':>8}"]
    lines += [f"{who:<{width}}  {cpu:>6}  {mem:>8}" for _, who, cpu, mem in sorted(rows, key=lambda r: -r[0])]
    return "\n".join(lines)

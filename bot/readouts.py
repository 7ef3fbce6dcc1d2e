"""Plain-text readouts of Kubernetes objects for ``/aeth describe`` and ``/aeth top`` (pure, from dicts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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
    """``metrics.k8s.io`` PodMetrics items → one line per container with CPU and memory usage."""
    lines = ["POD/CONTAINER  CPU  MEMORY"]
    for item in pod_metrics:
        name = (item.get("metadata") or {}).get("name")
        for c in item.get("containers") or []:
            usage = c.get("usage") or {}
            lines.append(f"{name}/{c.get('name')}  {usage.get('cpu', '-')}  {usage.get('memory', '-')}")
    return (
        "\n".join(lines) if len(lines) > 1 else "no metrics for pods in this namespace (is metrics-server installed?)"
    )

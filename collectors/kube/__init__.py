"""The Kubernetes side of the collector: watch Pods, Events and Nodes, detect failures, capture Snapshots.

``clients`` is the only module that calls the API (``ClusterReader``); ``detecting``, ``filters``, ``owners`` and
``tracking`` are pure; ``watching`` runs the list/watch loop; ``capturing`` builds a Snapshot of one pod.
``capture_pod`` is what ``aeth snapshot`` and ``aeth diagnose pod/NAME -n NS`` call.
"""

from __future__ import annotations

import re

from aetherius.errors import ApiRejected, UnsupportedKind
from aetherius.settings import Settings
from aetherius.snapshots import Snapshot
from collectors.kube.capturing import CapturingSink, HandOver, MetricsSource, capture
from collectors.kube.clients import ClusterReader, build_api_client
from collectors.kube.detecting import Detection
from collectors.kube.watching import IncidentSink, Watcher
from collectors.prometheus import PrometheusSource

__all__ = [
    "CapturingSink",
    "ClusterReader",
    "Detection",
    "HandOver",
    "IncidentSink",
    "MetricsSource",
    "Watcher",
    "build_api_client",
    "capture",
    "capture_pod",
    "parse_pod_ref",
]

_POD_KINDS = ("pod", "pods", "po")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def parse_pod_ref(ref: str) -> str:
    """``pod/NAME``, ``pods/NAME``, ``po/NAME`` or ``NAME`` → ``NAME``."""
    kind, _, name = ref.strip().rpartition("/")
    if kind and kind.lower() not in _POD_KINDS:
        raise UnsupportedKind(f"{ref} is not a pod: diagnose one of its pods (aeth diagnose pod/NAME -n NAMESPACE)")
    if not _NAME.match(name):
        raise ApiRejected(f"{name!r} is not a valid pod name (lowercase letters, digits, '-' and '.')")
    return name


def capture_pod(settings: Settings, ref: str, namespace: str) -> Snapshot:
    """Capture ``pod/NAME`` in ``namespace`` with the cluster credentials and Prometheus the settings name."""
    name = parse_pod_ref(ref)
    prometheus = PrometheusSource(settings.prometheus_url) if settings.prometheus_url else None
    reader = ClusterReader.from_settings(settings)
    try:
        return capture(
            reader,
            namespace or "default",
            name,
            cluster=settings.cluster_name,
            prometheus=prometheus,
            tail_lines=settings.log_tail_lines,
        )
    finally:
        reader.close()

"""Prometheus as a metrics source for snapshots: range queries for the series rules read (SNAPSHOT.md).

Stdlib HTTP only (one GET per series). A failing query costs that series, not the capture: the caller records
what was skipped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from aetherius.errors import ConfigurationError, TemporaryError


class PrometheusUnavailable(TemporaryError):
    """Prometheus did not answer or answered with a server error."""


class PrometheusSource:
    def __init__(self, base_url: str, *, timeout_s: float = 10.0, bearer_token: str | None = None) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigurationError(f"AETH_PROMETHEUS_URL must be an http(s) URL, got {base_url!r}")
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s
        self._token = bearer_token

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query's ``matrix`` result: ``[{"metric": {...}, "values": [[ts, "v"], ...]}]``."""
        query = urllib.parse.urlencode(
            {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        )
        request = urllib.request.Request(f"{self._base}/api/v1/query_range?{query}")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - URL checked above
                body = json.loads(response.read())
        except urllib.error.HTTPError as err:
            if err.code >= 500:
                raise PrometheusUnavailable(f"Prometheus answered {err.code} for {promql!r}") from None
            detail = _error_detail(err)
            raise ConfigurationError(f"Prometheus refused {promql!r}: {err.code} {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise PrometheusUnavailable(f"Prometheus at {self._base} unreachable: {err}") from None
        if body.get("status") != "success" or body.get("data", {}).get("resultType") != "matrix":
            raise PrometheusUnavailable(f"unexpected Prometheus answer for {promql!r}: {str(body)[:200]}")
        return [r for r in body["data"]["result"] if isinstance(r, dict)]


def _error_detail(err: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(err.read()).get("error", ""))[:200]
    except (ValueError, OSError):
        return ""


def pod_queries(namespace: str, pod: str, node: str) -> list[str]:
    """The standard series of a snapshot (SNAPSHOT.md), scoped to one pod and its node."""
    sel = f'namespace="{namespace}",pod="{pod}"'
    queries = [
        f'container_memory_working_set_bytes{{{sel},container!="",container!="POD"}}',
        f'container_cpu_usage_seconds_total{{{sel},container!="",container!="POD"}}',
        f'container_cpu_cfs_throttled_periods_total{{{sel},container!=""}}',
        f'container_cpu_cfs_periods_total{{{sel},container!=""}}',
        f'container_fs_usage_bytes{{{sel},container!=""}}',
        f"kube_pod_container_resource_limits{{{sel}}}",
        f"kube_pod_container_resource_requests{{{sel}}}",
        f'kubelet_volume_stats_available_bytes{{namespace="{namespace}"}}',
        f'kubelet_volume_stats_capacity_bytes{{namespace="{namespace}"}}',
    ]
    if node:
        queries += [
            f'node_filesystem_avail_bytes{{node="{node}"}}',
            f'node_filesystem_size_bytes{{node="{node}"}}',
            f'node_memory_MemAvailable_bytes{{node="{node}"}}',
        ]
    return queries


def capture_metrics(
    source: PrometheusSource,
    namespace: str,
    pod: str,
    node: str,
    *,
    end: float,
    window_s: float = 3600.0,
    step_s: float = 30.0,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(series, skipped queries). One bad query does not lose the others."""
    series: list[dict[str, Any]] = []
    skipped: list[str] = []
    for promql in pod_queries(namespace, pod, node):
        try:
            series.extend(source.query_range(promql, end - window_s, end, step_s))
        except (PrometheusUnavailable, ConfigurationError) as err:
            skipped.append(f"metrics: {err}")
    return series, skipped

"""Operational metrics in the Prometheus format, for the collector and the workers, and their HTTP exporter.

One ``Telemetry`` object holds one ``CollectorRegistry`` (never the client library's global one, so two services in
one process, or a test, do not share series). The worker side (``tasks/``) imports this module too and calls
``incident_opened``, ``observe_queue_latency``, ``observe_diagnosis_latency`` and ``error``; ``process_telemetry()``
is the one instance of a process that wants a single exporter.

The watch counters are not copied into Prometheus counters: they are *read* from the watcher's ``WatchCounters`` at
scrape time (a custom collector, as prometheus_client documents for numbers kept elsewhere), so the scraped values
are the watcher's own and reconcile the same way: ``received == detected + deduplicated + filtered + noise``.

Series (all ``aetherius_``): ``events_received_total``, ``events_deduplicated_total``, ``events_filtered_total``,
``events_noise_total``, ``detections_total``, ``watch_{bookmarks,relists,reconnects,errors,sink_errors}_total``
(label ``cluster``); ``incidents_opened_total{cluster}``; ``queue_latency_seconds{queue}`` and
``diagnosis_latency_seconds`` histograms; ``errors_total{component,kind}``; ``collector_leader{cluster,identity}``
(1 while leading); ``cluster_heartbeat_timestamp_seconds{cluster}``.

Scraped by several processes (Celery prefork children) each child needs its own port or prometheus_client's
multiprocess mode; that choice belongs to the worker's composition, not here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

WATCH_SERIES: dict[str, tuple[str, str]] = {
    "received": ("aetherius_events_received", "Objects received from list and watch streams."),
    "deduplicated": ("aetherius_events_deduplicated", "Received objects already seen, or a failure already reported."),
    "filtered": ("aetherius_events_filtered", "Received objects outside the namespace/label filters."),
    "noise": ("aetherius_events_noise", "Received objects that show no failure (healthy, history, deletions)."),
    "detected": ("aetherius_detections", "Failures detected and handed to the incident sink."),
    "bookmarks": ("aetherius_watch_bookmarks", "BOOKMARK events received."),
    "relists": ("aetherius_watch_relists", "Lists again after a 410 Expired watch."),
    "reconnects": ("aetherius_watch_reconnects", "Watches resumed after a timeout, a cut connection or a 5xx."),
    "errors": ("aetherius_watch_errors", "Watches the API refused (403...)."),
    "sink_errors": ("aetherius_watch_sink_errors", "Detections the incident sink could not take."),
}
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

CounterSource = Callable[[], Mapping[str, int]]


class _WatchCountersCollector(Collector):
    """Reads each cluster's ``WatchCounters`` (as a dict) when Prometheus scrapes."""

    def __init__(self) -> None:
        self._sources: dict[str, CounterSource] = {}
        self._lock = threading.Lock()

    def add(self, cluster: str, read: CounterSource) -> None:
        with self._lock:
            self._sources[cluster] = read

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            readings = {cluster: dict(read()) for cluster, read in self._sources.items()}
        for field, (name, documentation) in WATCH_SERIES.items():
            family = CounterMetricFamily(name, documentation, labels=["cluster"])
            for cluster, values in sorted(readings.items()):
                family.add_metric([cluster], float(values.get(field, 0)))
            yield family

    def describe(self) -> Iterator[Metric]:
        for name, documentation in WATCH_SERIES.values():
            yield CounterMetricFamily(name, documentation, labels=["cluster"])


class Telemetry:
    """The metrics of one process (or one test), on their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._watch = _WatchCountersCollector()
        self.registry.register(self._watch)
        self.incidents_opened = Counter(
            "aetherius_incidents_opened", "New incidents (not occurrences of an open one).", ["cluster"],
            registry=self.registry,
        )  # fmt: skip
        self.queue_latency = Histogram(
            "aetherius_queue_latency_seconds", "From enqueue to a worker starting the task.", ["queue"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.diagnosis_latency = Histogram(
            "aetherius_diagnosis_latency_seconds", "From the first event of an incident to its diagnosis.",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.errors = Counter(
            "aetherius_errors", "Errors by component and error class.", ["component", "kind"], registry=self.registry
        )
        self.leader = Gauge(
            "aetherius_collector_leader", "1 while this collector holds its cluster's Lease.", ["cluster", "identity"],
            registry=self.registry,
        )  # fmt: skip
        self.heartbeat = Gauge(
            "aetherius_cluster_heartbeat_timestamp_seconds", "Unix time of the last heartbeat written.", ["cluster"],
            registry=self.registry,
        )  # fmt: skip

    def watch_counters(self, cluster: str, read: CounterSource) -> None:
        """Expose ``read()`` (a ``WatchCounters.as_dict``) as the cluster's event series, read at scrape time."""
        self._watch.add(cluster, read)

    def incident_opened(self, cluster: str) -> None:
        self.incidents_opened.labels(cluster).inc()

    def observe_queue_latency(self, queue: str, seconds: float) -> None:
        self.queue_latency.labels(queue).observe(max(0.0, seconds))

    def observe_diagnosis_latency(self, seconds: float) -> None:
        self.diagnosis_latency.observe(max(0.0, seconds))

    def error(self, component: str, err: BaseException) -> None:
        self.errors.labels(component, type(err).__name__).inc()

    def set_leader(self, cluster: str, identity: str, leading: bool) -> None:
        self.leader.labels(cluster, identity).set(1 if leading else 0)


class MetricsExporter:
    """``/metrics`` over HTTP for one registry, served from a daemon thread until ``stop()``."""

    def __init__(self, telemetry: Telemetry, host: str = "127.0.0.1", port: int = 9464) -> None:
        self.telemetry = telemetry
        self.host = host
        self.port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> str:
        """Listen (port 0: any free port) and return the scrape URL."""
        self._server, self._thread = start_http_server(self.port, addr=self.host, registry=self.telemetry.registry)
        self.port = int(self._server.server_address[1])
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


_PROCESS: Telemetry | None = None
_PROCESS_LOCK = threading.Lock()


def process_telemetry() -> Telemetry:
    """The process-wide ``Telemetry`` (created on first use), for code that has no composition root to receive one."""
    global _PROCESS
    with _PROCESS_LOCK:
        if _PROCESS is None:
            _PROCESS = Telemetry()
        return _PROCESS

"""The collector service: watch one cluster, report only while leading, heartbeat, and export metrics.

``CollectorService(reader, sink, settings, store).run()`` blocks until ``stop()``. Every ``lease_retry_s`` it runs
one round of the Lease election (``collectors.leadership``); while it leads it runs a ``Watcher`` that hands
detections to the sink, and heartbeats the cluster into the store (``collectors.registry``).

A follower *idles*: it neither watches nor reports. The alternative, a warm watch whose detections are held back,
would have to guess at takeover which of them the old leader had already reported. Instead a new leader starts a
fresh Watcher, whose first list sees every pod that is failing *now* and every recent Warning event, so nothing
that happened during the handover is missed; what the old leader had already reported comes again with the same
fingerprint (``Detection.dedup_key``) and becomes an occurrence of the open incident downstream, not a new one.
Followers also spare the API server a second set of watches. The cost is one list per takeover.

Leadership ends (Lease lost, or not renewable within ``lease_renew_deadline_s``) → the Watcher is stopped, and a
detection still in flight is refused with ``NotLeading`` (the Watcher forgets it; the new leader's list finds it).
``stop()`` stops the Watcher first, then releases the Lease so a follower takes over on its next round;
``stop(release=False)`` leaves the Lease to expire, which is what a crash does.

With ``AETH_LEADER_ELECTION=false`` the service always leads (one collector per cluster, no Lease RBAC needed).
``counters()`` adds up every Watcher this service ran; the metrics exporter reads it at scrape time.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import fields

from aetherius.errors import TemporaryError
from aetherius.settings import Settings
from collectors.kube.clients import ClusterReader
from collectors.kube.detecting import Detection
from collectors.kube.leases import LeaseClient
from collectors.kube.tracking import WatchCounters
from collectors.kube.watching import IncidentSink, Watcher
from collectors.leadership import ElectionTimings, LeaderElector, Leases
from collectors.registry import Heartbeat, HeartbeatStore
from collectors.telemetry import MetricsExporter, Telemetry

log = logging.getLogger(__name__)
WatcherFactory = Callable[[IncidentSink], Watcher]


class NotLeading(TemporaryError):
    """This collector is not (or no longer) the leader: the detection is left to the one that is."""


def default_identity() -> str:
    """``hostname_random``: the pod name in a cluster, unique even for two collectors on one host."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class CollectorService:
    def __init__(
        self,
        reader: ClusterReader,
        sink: IncidentSink,
        settings: Settings,
        store: HeartbeatStore | None = None,
        *,
        telemetry: Telemetry | None = None,
        leases: Leases | None = None,
        watcher_factory: WatcherFactory | None = None,
    ) -> None:
        self.reader = reader
        self.sink = sink
        self.settings = settings
        self.cluster = settings.cluster_name
        self.identity = settings.collector_identity or default_identity()
        self.telemetry = telemetry or Telemetry()
        self.elector: LeaderElector | None = None
        if settings.leader_election:
            lease_client = leases or LeaseClient(reader.api, settings.lease_namespace, settings.lease_name)
            self.elector = LeaderElector(lease_client, self.identity, ElectionTimings.from_settings(settings))
        self.heartbeat = (
            Heartbeat(store, self.cluster, self.identity, interval_s=settings.heartbeat_s, telemetry=self.telemetry)
            if store is not None
            else None
        )
        self.exporter = (
            MetricsExporter(self.telemetry, settings.metrics_host, settings.metrics_port)
            if settings.metrics_port is not None
            else None
        )
        self._make_watcher = watcher_factory or (lambda sink: Watcher.from_settings(reader, sink, settings))
        self._leading = False
        self._stopping = threading.Event()
        self._release = True
        self._lock = threading.Lock()
        self._watcher: Watcher | None = None
        self._thread: threading.Thread | None = None
        self._past = WatchCounters()
        self.handed_over = 0
        self.terms = 0
        """How many times this service started reporting (became the leader)."""
        self.telemetry.watch_counters(self.cluster, lambda: self.counters().as_dict())

    @property
    def is_leader(self) -> bool:
        return self._leading

    def counters(self) -> WatchCounters:
        """Every event this service's Watchers received, across leadership terms."""
        with self._lock:
            total = WatchCounters(**self._past.as_dict())
            if self._watcher is not None:
                _add(total, self._watcher.counters)
            return total

    def run(self) -> None:
        """Elect, watch, heartbeat, until ``stop()``."""
        if self.exporter is not None:
            log.info("metrics on %s", self.exporter.start())
        pause = self.settings.lease_retry_s if self.elector is not None else min(float(self.settings.heartbeat_s), 5.0)
        try:
            while not self._stopping.is_set():
                self._round()
                self._stopping.wait(pause)
        finally:
            self._leading = False
            self._stop_watching()
            if self.elector is not None and self._release:
                self.elector.release()
            self.telemetry.set_leader(self.cluster, self.identity, False)
            if self.exporter is not None:
                self.exporter.stop()

    def stop(self, *, release: bool = True) -> None:
        """End ``run()``; ``release=False`` leaves the Lease to expire instead of handing it back (first call wins)."""
        if self._stopping.is_set():
            return
        self._release = release
        self._stopping.set()

    def _round(self) -> None:
        leading = self.elector.try_acquire_or_renew() if self.elector is not None else True
        if self._stopping.is_set():
            return
        self._leading = leading
        self.telemetry.set_leader(self.cluster, self.identity, leading)
        if leading:
            self._start_watching()
            if self.heartbeat is not None:
                self.heartbeat.beat_if_due()
        else:
            self._stop_watching()

    def _hand_over(self, detection: Detection) -> None:
        if not self._leading or self._stopping.is_set():
            raise NotLeading(f"{self.identity} is not the leader of cluster {self.cluster}")
        self.sink(detection)
        self.handed_over += 1

    def _start_watching(self) -> None:
        if self._thread is not None and not self._thread.is_alive():  # died of a bug: log it, start afresh
            log.error("the watcher of cluster %s ended unexpectedly; starting a new one", self.cluster)
            self.telemetry.errors.labels("collector", "WatcherDied").inc()
            self._stop_watching()
        if self._watcher is not None:
            return
        watcher = self._make_watcher(self._hand_over)
        thread = threading.Thread(target=watcher.run, name=f"collector-{self.identity}", daemon=True)
        with self._lock:
            self._watcher, self._thread = watcher, thread
        self.terms += 1
        log.info("%s leads cluster %s: watching", self.identity, self.cluster)
        thread.start()

    def _stop_watching(self) -> None:
        watcher, thread = self._watcher, self._thread
        if watcher is None or thread is None:
            return
        watcher.stop()
        thread.join(30)
        with self._lock:
            _add(self._past, watcher.counters)
            self._watcher = self._thread = None
        log.info("%s stopped watching cluster %s", self.identity, self.cluster)


def _add(total: WatchCounters, more: WatchCounters) -> None:
    for f in fields(WatchCounters):
        setattr(total, f.name, getattr(total, f.name) + getattr(more, f.name))

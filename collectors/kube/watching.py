"""The watch loop: list, then watch from the list's resourceVersion, for Pods, Events and Nodes, forever.

One thread per stream, sharing one ``Tracker``. The loop follows the API's documented contract:

- the watch starts from the list's resourceVersion with ``allowWatchBookmarks`` and a server-side
  ``timeoutSeconds``; every event and BOOKMARK moves the stream's resourceVersion forward, so the next watch
  resumes exactly where this one ended (nothing missed, nothing repeated);
- 410 Expired (the version was compacted away) means list again: the ``Tracker`` compares the new list with
  what it has seen, so changes made during the gap are detected and unchanged objects are not repeated;
- anything else that goes wrong (timeouts, cut connections, 5xx, 403) waits a jittered exponential back-off,
  capped, then resumes; a clean end of a watch resets the back-off.

Detections go to an ``IncidentSink``; a sink that fails with one of our errors is logged and the detection is
forgotten, so the subject's next change reports it again. ``stop()`` ends every stream promptly.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from aetherius.errors import AetheriusError, PermanentError, ResourceExpired, TemporaryError
from aetherius.settings import Settings
from collectors.kube.clients import ClusterReader, Watchable
from collectors.kube.detecting import Detection, Policy
from collectors.kube.filters import WatchFilters
from collectors.kube.responses import WatchStream
from collectors.kube.tracking import Tracker, WatchCounters

log = logging.getLogger(__name__)


class IncidentSink(Protocol):
    """Where detections go: a Celery enqueue in production, a direct call in the embedded mode and in tests."""

    def __call__(self, detection: Detection) -> None: ...


def backoff_delay(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
) -> float:
    """Exponential back-off with "equal jitter": between half and all of ``min(cap, base * 2**(attempt-1))``."""
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def utc_now() -> datetime:
    return datetime.now(UTC)


class Watcher:
    def __init__(
        self,
        reader: ClusterReader,
        sink: IncidentSink,
        *,
        cluster: str,
        filters: WatchFilters | None = None,
        policy: Policy | None = None,
        kinds: Iterable[Watchable] = ("pods", "events", "nodes"),
        watch_timeout_s: int = 300,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], object] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.reader = reader
        self.sink = sink
        self.kinds = tuple(kinds)
        self.tracker = Tracker(cluster=cluster, filters=filters, policy=policy, now=now)
        self.watch_timeout_s = watch_timeout_s
        self.resource_versions: dict[str, str] = {}
        """The last resourceVersion each stream has reached (by events and bookmarks)."""
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._rand = rand
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._streams: set[WatchStream] = set()
        self._streams_lock = threading.Lock()
        self._pods_listed = threading.Event()
        self.prime_timeout_s = 30.0

    @classmethod
    def from_settings(cls, reader: ClusterReader, sink: IncidentSink, settings: Settings) -> Watcher:
        return cls(
            reader,
            sink,
            cluster=settings.cluster_name,
            filters=WatchFilters.from_settings(settings),
            watch_timeout_s=settings.watch_timeout_s,
        )

    @property
    def counters(self) -> WatchCounters:
        return self.tracker.counters

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Watch every stream until ``stop()``; one thread per stream.

        Pods are listed first, so the Event stream can judge events by the labels of the pod they are about.
        """
        threads = [threading.Thread(target=self.run_stream, args=(kind,), name=f"watch-{kind}") for kind in self.kinds]
        for thread in sorted(threads, key=lambda t: t.name != "watch-pods"):
            thread.start()
            if thread.name == "watch-pods":
                self._pods_listed.wait(self.prime_timeout_s)
        for thread in threads:
            thread.join()

    def stop(self) -> None:
        self._stopping.set()
        self._pods_listed.set()
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    def run_stream(self, kind: Watchable) -> None:
        version = ""  # empty: list first
        failures = 0
        while not self._stopping.is_set():
            try:
                if not version:
                    version = self._relist(kind)
                version = self._watch(kind, version)
                failures = 0
            except ResourceExpired as err:
                log.info("%s watch expired (%s); listing again", kind, err)
                self.tracker.bump("relists")
                version = ""
                self.resource_versions.pop(kind, None)
                failures += 1
                if failures > 1:  # a list followed straight by another 410: do not spin
                    self._sleep(self._delay(failures))
            except TemporaryError as err:
                version = self.resource_versions.get(kind, version)  # resume after the last event that arrived
                failures += 1
                self.tracker.bump("reconnects")
                log.warning("%s watch interrupted (%s); reconnecting (attempt %d)", kind, err, failures)
                self._sleep(self._delay(failures))
            except PermanentError as err:
                version = self.resource_versions.get(kind, version)
                failures += 1
                self.tracker.bump("errors")
                log.error("%s watch refused: %s; retrying in a while", kind, err)
                self._sleep(self._delay(failures))

    def _relist(self, kind: Watchable) -> str:
        listing = self.reader.list_objects(kind)
        for detection in self.tracker.relist(kind, listing.items):
            self._emit(detection)
        self.resource_versions[kind] = listing.resource_version
        if kind == "pods":
            self._pods_listed.set()
        return listing.resource_version

    def _watch(self, kind: Watchable, version: str) -> str:
        stream = self.reader.watch(kind, resource_version=version, timeout_s=self.watch_timeout_s)
        with self._streams_lock:
            self._streams.add(stream)
        try:
            if self._stopping.is_set():
                stream.close()
            for event in stream:
                if event.type == "BOOKMARK":
                    self.tracker.bump("bookmarks")
                else:
                    detection = self.tracker.observe(kind, event.type, event.object)
                    if detection is not None:
                        self._emit(detection)
                if event.resource_version:  # only once the event is handled: resuming here loses nothing
                    version = self.resource_versions[kind] = event.resource_version
        finally:
            with self._streams_lock:
                self._streams.discard(stream)
        return version

    def _emit(self, detection: Detection) -> None:
        try:
            self.sink(detection)
        except AetheriusError as err:
            log.error("incident sink refused %s: %s", detection.dedup_key, err)
            self.tracker.bump("sink_errors")
            self.tracker.forget(detection)

    def _delay(self, attempt: int) -> float:
        base, cap = self._backoff
        return backoff_delay(attempt, base=base, cap=cap, rand=self._rand)

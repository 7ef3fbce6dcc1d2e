"""The watcher against the fake API server over HTTP: one incident per failure, across reconnects and relists."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from collectors.kube.clients import ClusterReader, Watchable
from collectors.kube.detecting import Detection
from collectors.kube.filters import LabelSelector, WatchFilters
from collectors.kube.watching import Watcher
from tests import builders
from tests.fakes import NOW, wait_until
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(60)]

BACKOFF = "Back-off restarting failed container api in pod api-7d9f8c6b5-x2k4q"


class Sink:
    """The IncidentSink port, collecting in memory."""

    def __init__(self) -> None:
        self.detections: list[Detection] = []
        self._lock = threading.Lock()

    def __call__(self, detection: Detection) -> None:
        with self._lock:
            self.detections.append(detection)

    def keys(self) -> list[tuple[str, str]]:
        return [(d.subject, d.family) for d in self.detections]


@contextlib.contextmanager
def watching(
    reader: ClusterReader,
    kinds: tuple[Watchable, ...] = ("pods", "events"),
    filters: WatchFilters | None = None,
    watch_timeout_s: int = 2,
) -> Iterator[tuple[Watcher, Sink, list[float]]]:
    sink, delays = Sink(), []
    stopping = threading.Event()

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        stopping.wait(min(seconds, 0.1))

    watcher = Watcher(reader, sink, cluster="test", kinds=kinds, filters=filters, watch_timeout_s=watch_timeout_s,
                      backoff_base_s=0.05, backoff_cap_s=0.4, now=lambda: NOW, sleep=sleep)  # fmt: skip
    thread = threading.Thread(target=watcher.run, name="watcher")
    thread.start()
    try:
        assert wait_until(lambda: all(k in watcher.resource_versions for k in kinds)), "the initial lists never came"
        yield watcher, sink, delays
    finally:
        stopping.set()
        watcher.stop()
        thread.join(10)
        assert not thread.is_alive(), "stop() did not end the watcher"
        assert watcher.counters.reconciles(), watcher.counters


def caught_up(watcher: Watcher, kube: FakeKube, kinds: tuple[str, ...] = ("pods", "events")) -> bool:
    """Every stream has handled everything written so far (events, then bookmarks, move its version)."""
    target = kube.resource_version
    return wait_until(lambda: all(int(watcher.resource_versions.get(k) or 0) >= target for k in kinds))


def crashlooping_pod(name: str = "api-7d9f8c6b5-x2k4q", restarts: int = 5, **kwargs: Any) -> dict[str, Any]:
    return builders.pod(name, statuses=[builders.crashlooping(restarts=restarts)], **kwargs)


def backoff_event(count: int, pod: str = "api-7d9f8c6b5-x2k4q") -> dict[str, Any]:
    event = builders.event("BackOff", BACKOFF, count=count, name=pod)
    event["metadata"]["name"] = f"{pod}.backoff"
    return event


def test_a_crashlooping_pod_yields_one_detection(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.pod(conditions=[{"type": "Ready", "status": "True"}]))
    with watching(reader) as (watcher, sink, _):
        for restarts in range(1, 5):  # a crash loop is a stream of status updates and a counting BackOff event
            kube.apply(crashlooping_pod(restarts=restarts))
            kube.apply(backoff_event(restarts))
        assert caught_up(watcher, kube)
    (found,) = sink.detections  # from the status or from the event, whichever stream was first: one incident
    assert (found.family, found.workload_kind, found.workload_name) == ("crash", "Deployment", "api")
    assert found.reason in ("CrashLoopBackOff", "BackOff")
    assert watcher.counters.detected == 1 and watcher.counters.deduplicated == 7


def test_a_node_going_not_ready_yields_one_node_detection(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.node("worker-1"))
    with watching(reader, kinds=("nodes",)) as (watcher, sink, _):
        for message in ("kubelet stopped posting node status", "still no status"):
            node = builders.node("worker-1")
            node["status"]["conditions"] = [{"type": "Ready", "status": "Unknown", "message": message}]
            kube.apply(node)
        assert caught_up(watcher, kube, ("nodes",))
    assert sink.keys() == [("Node/worker-1", "node")]


def test_a_reconnect_after_a_dropped_connection_repeats_nothing(kube: FakeKube, reader: ClusterReader) -> None:
    with watching(reader) as (watcher, sink, _):
        kube.apply(crashlooping_pod(restarts=1))
        assert caught_up(watcher, kube)
        for restarts in (2, 3):
            assert kube.drop_watches() >= 1
            assert wait_until(lambda n=restarts: watcher.counters.reconnects >= n - 1 and kube.open_watches == 2)
            kube.apply(crashlooping_pod(restarts=restarts))
            kube.apply(backoff_event(restarts))
        assert caught_up(watcher, kube)
    assert sink.keys() == [("Pod/shop/api-7d9f8c6b5-x2k4q", "crash")]
    assert watcher.counters.reconnects >= 2 and watcher.counters.relists == 0


def test_a_change_made_while_disconnected_is_detected_after_reconnect(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.pod(conditions=[{"type": "Ready", "status": "True"}]))
    with watching(reader, kinds=("pods",)) as (watcher, sink, delays):
        outage = kube.fail("get", "/api/v1/pods?watch=true", 503)
        kube.drop_watches()
        assert wait_until(lambda: outage.hits >= 2), "the watcher did not try to reconnect"
        kube.apply(crashlooping_pod())  # while nobody is watching
        kube.clear_faults()
        assert caught_up(watcher, kube, ("pods",))
    assert sink.keys() == [("Pod/shop/api-7d9f8c6b5-x2k4q", "crash")]
    assert watcher.counters.reconnects >= 2 and watcher.counters.relists == 0
    assert len(delays) >= 2 and all(0.025 <= d <= 0.4 for d in delays)  # jittered, capped back-off


def test_a_410_during_the_watch_relists_and_neither_duplicates_nor_misses(
    kube: FakeKube, reader: ClusterReader
) -> None:
    kube.create(crashlooping_pod("a-7d9f8c6b5-aaaaa"))
    kube.create(builders.pod("c-7d9f8c6b5-ccccc"))
    with watching(reader, kinds=("pods",)) as (watcher, sink, _):
        assert caught_up(watcher, kube, ("pods",))
        outage = kube.fail("get", "/api/v1/pods?watch=true", 500)
        kube.drop_watches()
        assert wait_until(lambda: outage.hits >= 1)
        kube.apply(crashlooping_pod("a-7d9f8c6b5-aaaaa", restarts=9))  # the same failure, still going
        kube.create(crashlooping_pod("b-7d9f8c6b5-bbbbb"))  # a new failure during the gap
        kube.delete("v1", "Pod", "shop", "c-7d9f8c6b5-ccccc")
        kube.compact()  # the watcher's resourceVersion is now too old: 410 on the next watch
        kube.clear_faults()
        assert wait_until(lambda: watcher.counters.relists >= 1)
        assert caught_up(watcher, kube, ("pods",))
    assert sorted(sink.keys()) == [("Pod/shop/a-7d9f8c6b5-aaaaa", "crash"), ("Pod/shop/b-7d9f8c6b5-bbbbb", "crash")]
    assert watcher.counters.deduplicated >= 1  # a's new version: the same failure, not a new incident


def test_a_relist_re_delivers_everything_and_repeats_nothing(kube: FakeKube, reader: ClusterReader) -> None:
    for i in range(3):
        kube.create(crashlooping_pod(f"p{i}-7d9f8c6b5-xxxxx"))
    with watching(reader, kinds=("pods",)) as (watcher, sink, _):
        assert len(sink.detections) == 3
        kube.compact()
        kube.create(builders.node("moves-the-version"))
        kube.compact()
        kube.drop_watches(clean=True)
        assert wait_until(lambda: watcher.counters.relists >= 1)
        assert caught_up(watcher, kube, ("pods",))
    assert len(sink.detections) == 3 and watcher.counters.deduplicated >= 3


def test_bookmarks_advance_the_resource_version_so_a_compaction_needs_no_relist(
    kube: FakeKube, reader: ClusterReader
) -> None:
    with watching(reader, kinds=("pods",), watch_timeout_s=30) as (watcher, sink, _):
        listed = int(watcher.resource_versions["pods"])
        for i in range(3):  # writes elsewhere move the cluster's version; the pod watch sees only bookmarks
            kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "shop"}})
        assert wait_until(lambda: int(watcher.resource_versions["pods"]) == kube.resource_version > listed)
        assert watcher.counters.bookmarks >= 1 and watcher.counters.received == 0
        kube.compact()
        kube.drop_watches(clean=True)
        assert wait_until(lambda: kube.open_watches == 1)
        kube.apply(crashlooping_pod())
        assert caught_up(watcher, kube, ("pods",))
    assert watcher.counters.relists == 0
    assert sink.keys() == [("Pod/shop/api-7d9f8c6b5-x2k4q", "crash")]
    resumed = kube.requests_to("get", "/api/v1/pods")[-1].params
    assert int(resumed["resourceVersion"]) >= kube.store.horizon and resumed["allowWatchBookmarks"] == "true"


def test_namespace_and_label_filters_count_as_filtered(kube: FakeKube, reader: ClusterReader) -> None:
    filters = WatchFilters(namespaces=frozenset({"shop", "ops"}), exclude_namespaces=frozenset({"ops"}),
                           exclude=LabelSelector.parse("team=noisy"))  # fmt: skip
    with watching(reader, filters=filters) as (watcher, sink, _):
        noisy = crashlooping_pod("noisy-7d9f8c6b5-nnnnn")
        noisy["metadata"]["labels"] = {"team": "noisy"}
        kube.create(noisy)
        kube.create(crashlooping_pod("x-7d9f8c6b5-xxxxx", namespace="other"))
        kube.create(crashlooping_pod("y-7d9f8c6b5-yyyyy", namespace="ops"))
        assert caught_up(watcher, kube)  # the noisy pod's labels are known before its events arrive
        kube.create(backoff_event(3, pod="noisy-7d9f8c6b5-nnnnn"))
        kube.create(crashlooping_pod())
        assert caught_up(watcher, kube)
    assert sink.keys() == [("Pod/shop/api-7d9f8c6b5-x2k4q", "crash")]
    assert watcher.counters.filtered == 4


def test_counters_reconcile_over_mixed_traffic(kube: FakeKube, reader: ClusterReader) -> None:
    with watching(reader, kinds=("pods", "events", "nodes")) as (watcher, sink, _):
        kube.create(builders.node("worker-1"))
        kube.create(crashlooping_pod())
        kube.create(backoff_event(1))
        kube.apply(backoff_event(2))
        kube.create(builders.pod("healthy-7d9f8c6b5-hhhhh"))
        kube.delete("v1", "Pod", "shop", "healthy-7d9f8c6b5-hhhhh")
        assert caught_up(watcher, kube, ("pods", "events", "nodes"))
        counters = watcher.counters
        assert counters.received == 6 and counters.reconciles()
    assert (counters.detected, counters.deduplicated, counters.noise) == (1, 2, 3)
    assert len(sink.detections) == 1


def test_a_healthy_rollout_a_completed_job_and_an_old_oom_open_nothing(kube: FakeKube, reader: ClusterReader) -> None:
    ready = [{"type": "Ready", "status": "True"}]
    rollout = [("ScalingReplicaSet", "Deployment", "api"), ("SuccessfulCreate", "ReplicaSet", "api-6c8d9f7b4"),
               ("Scheduled", "Pod", "api-6c8d9f7b4-new01"), ("Pulled", "Pod", "api-6c8d9f7b4-new01"),
               ("Created", "Pod", "api-6c8d9f7b4-new01"), ("Started", "Pod", "api-6c8d9f7b4-new01"),
               ("Killing", "Pod", "api-7d9f8c6b5-x2k4q")]  # fmt: skip
    with watching(reader, kinds=("pods", "events", "nodes")) as (watcher, sink, _):
        kube.create(builders.node("worker-1"))
        kube.create(builders.pod("api-6c8d9f7b4-new01", owner=("ReplicaSet", "api-6c8d9f7b4"), conditions=ready))
        for i, (reason, kind, name) in enumerate(rollout):
            event = builders.event(reason, f"{reason} {name}", type="Normal", kind=kind, name=name)
            event["metadata"]["name"] = f"rollout.{i}"
            kube.create(event)
        blip = builders.event("Unhealthy", "Readiness probe failed: connection refused", name="api-6c8d9f7b4-new01")
        kube.create(blip)
        completed = {"reason": "Completed", "exitCode": 0, "finishedAt": "2025-03-02T10:14:00Z"}
        done = {"name": "api", "ready": False, "restartCount": 0, "state": {"terminated": completed}}
        kube.create(builders.pod("migrate-abcde", phase="Succeeded", owner=("Job", "migrate"), statuses=[done]))
        long_ago = {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2025-03-02T06:00:00Z"}
        kube.create(builders.pod("cache-0", owner=("StatefulSet", "cache"), conditions=ready,
                                 statuses=[builders.running(restarts=1, last=long_ago)]))  # fmt: skip
        assert caught_up(watcher, kube, ("pods", "events", "nodes"))
        assert watcher.counters.noise == watcher.counters.received == 12
    assert sink.detections == []


def test_a_forbidden_list_backs_off_and_recovers(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(crashlooping_pod())
    denied = kube.fail("get", "/api/v1/pods", 403, times=2)
    with watching(reader, kinds=("pods",)) as (watcher, sink, delays):
        assert caught_up(watcher, kube, ("pods",))
    assert denied.hits == 2 and watcher.counters.errors == 2 and len(delays) >= 2
    assert sink.keys() == [("Pod/shop/api-7d9f8c6b5-x2k4q", "crash")]


def test_stop_ends_a_long_idle_watch_promptly(kube: FakeKube, reader: ClusterReader) -> None:
    watcher = Watcher(reader, Sink(), cluster="test", kinds=("pods", "events"), watch_timeout_s=300, now=lambda: NOW)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    assert wait_until(lambda: kube.open_watches == 2)
    watcher.stop()
    thread.join(3)
    assert not thread.is_alive()

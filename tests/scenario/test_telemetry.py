"""Operational metrics scraped over HTTP, as Prometheus would: they are the watcher's own counters, and they add up."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aetherius.errors import StoreUnavailable
from aetherius.settings import Settings
from aetherius.store import Store
from collectors.kube.clients import ClusterReader
from collectors.kube.filters import WatchFilters
from collectors.kube.watching import IncidentSink, Watcher
from collectors.service import CollectorService
from collectors.telemetry import WATCH_SERIES, MetricsExporter, Telemetry
from tests import builders
from tests.fakes import NOW, wait_until
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(60)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def service(kube: FakeKube, kube_settings: Settings, tmp_path: Path) -> Iterator[CollectorService]:
    settings = kube_settings.model_copy(update={"metrics_port": 0, "leader_election": False, "heartbeat_s": 1})
    reader = ClusterReader.from_settings(settings, timeout_s=5.0)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")

    def make(sink: IncidentSink) -> Watcher:
        filters = WatchFilters(exclude_namespaces=frozenset({"kube-system"}))
        return Watcher(reader, sink, cluster="test", kinds=("pods", "events"), filters=filters, watch_timeout_s=2,
                       backoff_base_s=0.05, backoff_cap_s=0.4, now=lambda: NOW)  # fmt: skip

    svc = CollectorService(reader, lambda detection: None, settings, store, watcher_factory=make)
    thread = threading.Thread(target=svc.run, name="service")
    thread.start()
    try:
        assert wait_until(lambda: svc.is_leader and svc.exporter is not None and svc.exporter.port != 0)
        yield svc
    finally:
        svc.stop()
        thread.join(30)
        reader.close()
        store.close()


def test_scraped_event_counters_are_the_watchers_and_reconcile(kube: FakeKube, service: CollectorService) -> None:
    kube.create(builders.pod("healthy-6f7d8c9b5-abcde", owner=("ReplicaSet", "healthy-6f7d8c9b5")))
    for restarts in (1, 2, 3):  # one incident, then repeats of it
        kube.apply(builders.pod(statuses=[builders.crashlooping(restarts=restarts)]))
    kube.apply(builders.pod("dns-5d8f7c6b4-zzzzz", namespace="kube-system", statuses=[builders.crashlooping()]))
    assert wait_until(lambda: service.counters().received >= 5 and service.counters().detected == 1)
    assert service.exporter is not None
    samples = scrape(service.exporter.url)
    counters = service.counters().as_dict()
    for field, (name, _) in WATCH_SERIES.items():
        assert value(samples, f"{name}_total", cluster="test") == counters[field], field
    received = value(samples, "aetherius_events_received_total", cluster="test")
    outcomes = ["aetherius_detections_total", "aetherius_events_deduplicated_total",
                "aetherius_events_filtered_total", "aetherius_events_noise_total"]  # fmt: skip
    assert received == sum(value(samples, name, cluster="test") for name in outcomes) >= 5
    assert value(samples, "aetherius_events_filtered_total", cluster="test") >= 1  # kube-system
    assert value(samples, "aetherius_events_deduplicated_total", cluster="test") >= 1  # the repeats
    assert value(samples, "aetherius_collector_leader", cluster="test", identity=service.identity) == 1
    assert value(samples, "aetherius_cluster_heartbeat_timestamp_seconds", cluster="test") > 0


def test_the_worker_side_series_show_up_by_label() -> None:
    telemetry = Telemetry()
    exporter = MetricsExporter(telemetry, port=0)
    url = exporter.start()
    try:
        telemetry.incident_opened("prod")
        telemetry.incident_opened("prod")
        telemetry.observe_queue_latency("analyze", 0.3)
        telemetry.observe_queue_latency("analyze", -1.0)  # clock skew between hosts: counted as zero
        telemetry.observe_diagnosis_latency(4.0)
        telemetry.error("tasks.analyze", StoreUnavailable("database locked"))
        samples = scrape(url)
    finally:
        exporter.stop()
    assert value(samples, "aetherius_incidents_opened_total", cluster="prod") == 2
    assert value(samples, "aetherius_queue_latency_seconds_count", queue="analyze") == 2
    assert value(samples, "aetherius_queue_latency_seconds_bucket", queue="analyze", le="0.05") == 1
    assert value(samples, "aetherius_diagnosis_latency_seconds_sum") == 4.0
    assert value(samples, "aetherius_errors_total", component="tasks.analyze", kind="StoreUnavailable") == 1


def test_two_telemetry_objects_do_not_share_series() -> None:
    first, second = Telemetry(), Telemetry()
    first.incident_opened("prod")
    assert first.registry.get_sample_value("aetherius_incidents_opened_total", {"cluster": "prod"}) == 1
    assert second.registry.get_sample_value("aetherius_incidents_opened_total", {"cluster": "prod"}) is None

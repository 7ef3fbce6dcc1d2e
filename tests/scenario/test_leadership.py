"""Lease leader election through the real ``kubernetes`` client against the fake API server over HTTP.

First the fake's Leases are checked against what the API documents (optimistic concurrency: 409 AlreadyExists on a
second create, 409 Conflict on a replace with a stale resourceVersion); then the elector, with a clock the test
moves; then two ``CollectorService``s electing one reporter and handing over without missing an incident.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from aetherius.settings import Settings
from collectors.kube.clients import ClusterReader
from collectors.kube.detecting import Detection
from collectors.kube.leases import LeaseClient, LeaseConflict, LeaseRecord
from collectors.kube.watching import IncidentSink, Watcher
from collectors.leadership import ElectionTimings, LeaderElector
from collectors.service import CollectorService
from tests import builders
from tests.fakes import NOW, wait_until
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(90)]

LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases/*"
TIMINGS = ElectionTimings(lease_duration_s=15, renew_deadline_s=10, retry_s=2)


def lease_body(holder: str, rv: str | None = None, renewed: str = "10:15:00") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "lock", "namespace": "default"}
    if rv:
        meta["resourceVersion"] = rv
    spec = {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": f"2025-03-02T{renewed}.000000Z"}
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}


def status_of(err: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(err.body)
    return body


@pytest.fixture
def coordination(kube: FakeKube) -> Iterator[client.CoordinationV1Api]:
    api = client.ApiClient(client.Configuration(host=kube.url))
    yield client.CoordinationV1Api(api)
    api.close()


# --- the fake, against the documented API behaviour ----------------------------------------------------------


def test_the_fake_answers_a_second_create_of_a_lease_with_409_already_exists(
    coordination: client.CoordinationV1Api,
) -> None:
    created = json.loads(coordination.create_namespaced_lease("default", lease_body("a"), _preload_content=False).data)
    assert created["spec"]["holderIdentity"] == "a" and created["metadata"]["resourceVersion"]
    with pytest.raises(client.ApiException) as err:
        coordination.create_namespaced_lease("default", lease_body("b"), _preload_content=False)
    assert err.value.status == 409 and status_of(err.value)["reason"] == "AlreadyExists"


def test_the_fake_refuses_a_replace_from_a_stale_resource_version_with_409_conflict(
    coordination: client.CoordinationV1Api,
) -> None:
    first = json.loads(coordination.create_namespaced_lease("default", lease_body("a"), _preload_content=False).data)
    rv = first["metadata"]["resourceVersion"]
    renewed = json.loads(
        coordination.replace_namespaced_lease(
            "lock", "default", lease_body("a", rv, "10:15:05"), _preload_content=False
        ).data
    )
    assert int(renewed["metadata"]["resourceVersion"]) > int(rv)
    with pytest.raises(client.ApiException) as err:  # b read the Lease at rv, a wrote since: b lost the race
        coordination.replace_namespaced_lease("lock", "default", lease_body("b", rv), _preload_content=False)
    assert err.value.status == 409 and status_of(err.value)["reason"] == "Conflict"
    current = json.loads(coordination.read_namespaced_lease("lock", "default", _preload_content=False).data)
    assert current["spec"]["holderIdentity"] == "a"


def test_the_fake_answers_404_for_a_lease_nobody_created(coordination: client.CoordinationV1Api) -> None:
    with pytest.raises(client.ApiException) as err:
        coordination.read_namespaced_lease("lock", "default", _preload_content=False)
    assert err.value.status == 404 and status_of(err.value)["reason"] == "NotFound"


# --- the elector, with a clock the test moves --------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def elector(reader: ClusterReader, identity: str, clock: Clock, leases: Any = None) -> LeaderElector:
    leases = leases or LeaseClient(reader.api, "default", "aetherius-collector")
    return LeaderElector(leases, identity, TIMINGS, clock=clock, wall=lambda: NOW)


def test_the_first_collector_creates_the_lease_and_the_second_follows(kube: FakeKube, reader: ClusterReader) -> None:
    clock = Clock()
    a, b = elector(reader, "a", clock), elector(reader, "b", clock)
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    lease = kube.get("coordination.k8s.io/v1", "Lease", "default", "aetherius-collector")["spec"]
    assert lease["holderIdentity"] == "a" and lease["leaseDurationSeconds"] == 15 and lease["leaseTransitions"] == 0
    clock.t += 5
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()  # renewed: b starts counting again
    assert b.observed_holder == "a"


def test_a_lease_not_renewed_for_its_duration_is_taken_over(kube: FakeKube, reader: ClusterReader) -> None:
    clock = Clock()
    a, b = elector(reader, "a", clock), elector(reader, "b", clock)
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    clock.t += 14.9  # a has gone quiet; b saw the same version 14.9 s ago: not yet
    assert not b.try_acquire_or_renew()
    clock.t += 0.2
    assert b.try_acquire_or_renew() and b.is_leader
    lease = kube.get("coordination.k8s.io/v1", "Lease", "default", "aetherius-collector")["spec"]
    assert lease["holderIdentity"] == "b" and lease["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew() and not a.is_leader  # a comes back: it lost, and knows it


def test_a_released_lease_is_taken_over_at_once(kube: FakeKube, reader: ClusterReader) -> None:
    clock = Clock()
    a, b = elector(reader, "a", clock), elector(reader, "b", clock)
    assert a.try_acquire_or_renew() and not b.try_acquire_or_renew()
    a.release()
    released = kube.get("coordination.k8s.io/v1", "Lease", "default", "aetherius-collector")["spec"]
    assert released["holderIdentity"] == "" and released["leaseDurationSeconds"] == 1
    assert b.try_acquire_or_renew()


class Interleaved:
    """The real Lease client, with something happening between a read and the write that follows it."""

    def __init__(self, inner: LeaseClient, between: Callable[[], object]) -> None:
        self.inner, self.between = inner, between

    def get(self) -> LeaseRecord | None:
        record = self.inner.get()
        self.between()
        return record

    def create(self, record: LeaseRecord) -> LeaseRecord:
        return self.inner.create(record)

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        return self.inner.replace(record)


def test_two_collectors_racing_for_a_free_lease_elect_exactly_one(kube: FakeKube, reader: ClusterReader) -> None:
    clock = Clock()
    leases = LeaseClient(reader.api, "default", "aetherius-collector")
    a = elector(reader, "a", clock)
    b = elector(reader, "b", clock, Interleaved(leases, lambda: a.try_acquire_or_renew()))
    assert not b.try_acquire_or_renew()  # b saw no Lease, a created it meanwhile: b's create is a 409
    assert a.is_leader and not b.is_leader
    a.release()
    c = elector(reader, "c", clock)
    b = elector(reader, "b", clock, Interleaved(leases, lambda: c.try_acquire_or_renew()))
    assert not b.try_acquire_or_renew()  # b read the released Lease, c took it first: b's replace is a 409
    assert c.is_leader and not b.is_leader
    assert holder(kube) == "c"


def test_a_leader_that_cannot_renew_steps_down_before_anyone_may_take_over(
    kube: FakeKube, reader: ClusterReader
) -> None:
    clock = Clock()
    a = elector(reader, "a", clock)
    assert a.try_acquire_or_renew()
    fault = kube.fail("get", LEASES, 503)
    clock.t += 5
    assert a.try_acquire_or_renew()  # a blip: still within the renew deadline
    clock.t += 5.1
    assert not a.try_acquire_or_renew() and not a.is_leader  # 10.1 s without renewing: steps down (lease: 15 s)
    assert fault.hits == 2
    kube.clear_faults()
    assert a.try_acquire_or_renew()  # its own Lease, still held in its name: renewed


def test_a_lease_conflict_is_its_own_error(kube: FakeKube, reader: ClusterReader) -> None:
    leases = LeaseClient(reader.api, "default", "aetherius-collector")
    first = leases.create(LeaseRecord("a", 15, NOW, NOW))
    leases.replace(first.written_by("a", NOW + timedelta(seconds=5), 15))  # a renews
    with pytest.raises(LeaseConflict, match="another collector wrote it first"):
        leases.replace(replace(first, holder="b"))
    assert first.written_by("b", datetime(2025, 3, 2, tzinfo=UTC), 15).transitions == 1


# --- two collector services ----------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.detections: list[Detection] = []
        self._lock = threading.Lock()

    def __call__(self, detection: Detection) -> None:
        with self._lock:
            self.detections.append(detection)

    def subjects(self) -> set[str]:
        with self._lock:
            return {d.subject for d in self.detections}


def service_settings(kube: FakeKube, tmp_path: Path, identity: str) -> Settings:
    kubeconfig = kube.kubeconfig(tmp_path / f"kubeconfig-{identity}")
    return Settings(kubeconfig=str(kubeconfig), kube_context="fake", cluster_name="test", data_dir=tmp_path,
                    collector_identity=identity, lease_duration_s=2, lease_renew_deadline_s=1.5, lease_retry_s=0.1,
                    heartbeat_s=1, metrics_port=None)  # fmt: skip


def watcher_factory(reader: ClusterReader) -> Callable[[IncidentSink], Watcher]:
    def make(sink: IncidentSink) -> Watcher:
        return Watcher(reader, sink, cluster="test", kinds=("pods", "events"), watch_timeout_s=2,
                       backoff_base_s=0.05, backoff_cap_s=0.4, now=lambda: NOW)  # fmt: skip

    return make


@contextlib.contextmanager
def running_service(kube: FakeKube, tmp_path: Path, identity: str) -> Iterator[tuple[CollectorService, Sink]]:
    settings = service_settings(kube, tmp_path, identity)
    reader = ClusterReader.from_settings(settings, timeout_s=5.0)
    sink = Sink()
    service = CollectorService(reader, sink, settings, watcher_factory=watcher_factory(reader))
    thread = threading.Thread(target=service.run, name=f"service-{identity}")
    thread.start()
    try:
        yield service, sink
    finally:
        service.stop()  # a no-op when the test stopped it already
        thread.join(30)
        reader.close()
        assert not thread.is_alive(), "stop() did not end the service"
        assert service.counters().reconciles(), service.counters()


def failing_pod(workload: str) -> dict[str, Any]:
    return builders.pod(f"{workload}-7d9f8c6b5-x2k4q", statuses=[builders.crashlooping(restarts=3)],
                        owner=("ReplicaSet", f"{workload}-7d9f8c6b5"))  # fmt: skip


def subject(workload: str) -> str:
    return f"Pod/shop/{workload}-7d9f8c6b5-x2k4q"


def holder(kube: FakeKube) -> str:
    return str(kube.get("coordination.k8s.io/v1", "Lease", "default", "aetherius-collector")["spec"]["holderIdentity"])


def test_two_services_elect_one_leader_and_only_it_reports(kube: FakeKube, tmp_path: Path) -> None:
    with running_service(kube, tmp_path, "a") as (a, sink_a), running_service(kube, tmp_path, "b") as (b, sink_b):
        assert wait_until(lambda: a.is_leader or b.is_leader)
        kube.create(failing_pod("api"))
        leader_sink = sink_a if a.is_leader else sink_b
        assert wait_until(lambda: subject("api") in leader_sink.subjects())
        assert a.is_leader != b.is_leader and holder(kube) == ("a" if a.is_leader else "b")
        follower = b if a.is_leader else a
        assert (sink_b if a.is_leader else sink_a).detections == []
        assert follower.counters().received == 0 and follower.terms == 0  # a follower idles


def test_when_the_leader_stops_the_follower_takes_over_and_misses_nothing(kube: FakeKube, tmp_path: Path) -> None:
    with running_service(kube, tmp_path, "a") as (a, sink_a):
        assert wait_until(lambda: a.is_leader)
        with running_service(kube, tmp_path, "b") as (b, sink_b):
            kube.create(failing_pod("api"))
            assert wait_until(lambda: subject("api") in sink_a.subjects())
            a.stop()  # releases the Lease once its watcher has stopped
            kube.create(failing_pod("cart"))  # fails during the handover: nobody is watching
            assert wait_until(lambda: b.is_leader)
            kube.create(failing_pod("web"))  # fails after the handover
            assert wait_until(lambda: {subject("cart"), subject("web")} <= sink_b.subjects())
            assert holder(kube) == "b" and subject("cart") not in sink_a.subjects()
    reported = sink_a.subjects() | sink_b.subjects()
    assert reported == {subject("api"), subject("cart"), subject("web")}
    repeats = [d.dedup_key for d in sink_b.detections if d.subject == subject("api")]
    assert repeats in ([], ["test/shop/Deployment/api/crash"])  # a repeat carries the same fingerprint: dedup'd


def test_when_the_leader_dies_its_lease_expires_and_the_follower_takes_over(kube: FakeKube, tmp_path: Path) -> None:
    with running_service(kube, tmp_path, "a") as (a, sink_a):
        assert wait_until(lambda: a.is_leader)
        with running_service(kube, tmp_path, "b") as (b, sink_b):
            a.stop(release=False)  # as a crash would: the Lease stays in a's name until it expires
            kube.create(failing_pod("api"))
            assert wait_until(lambda: not a.is_leader, timeout=5)
            assert wait_until(lambda: subject("api") in sink_b.subjects(), timeout=15)
            assert holder(kube) == "b" and sink_a.detections == []

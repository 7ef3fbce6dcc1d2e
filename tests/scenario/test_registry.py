"""The cluster registry: the leading collector heartbeats into the real state store (SQLite and PostgreSQL), and
``aeth clusters`` shows each cluster's last heartbeat, its age, its leader, and whether it has gone stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aetherius.settings import Settings
from aetherius.store import Store
from aetherius.store.views import ClusterView
from collectors.kube.clients import ClusterReader
from collectors.registry import Heartbeat, cluster_statuses, format_age
from collectors.service import CollectorService
from collectors.telemetry import Telemetry
from tests.fakes import wait_until
from tests.fakes.kube import FakeKube
from tests.scenario.test_pipeline_parts import store_at

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(120)]

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_cluster_is_stale_once_its_heartbeat_is_older_than_the_limit() -> None:
    views = [ClusterView("fresh", NOW - timedelta(seconds=30), "a", {}),
             ClusterView("edge", NOW - timedelta(seconds=120), "b", {}),
             ClusterView("gone", NOW - timedelta(minutes=10), "c", {}),
             ClusterView("never", None, None, {}),
             ClusterView("naive", (NOW - timedelta(seconds=5)).replace(tzinfo=None), "d", {})]  # fmt: skip
    statuses = {s.name: s for s in cluster_statuses(views, now=NOW, stale_after_s=120)}
    assert {name for name, s in statuses.items() if s.stale} == {"gone", "never"}
    assert statuses["naive"].age_s == 5 and statuses["never"].age_s is None
    assert statuses["gone"].as_dict() == {"name": "gone", "last_heartbeat": "2026-03-01T11:50:00+00:00",
                                          "age_s": 600.0, "leader": "c", "stale": True}  # fmt: skip
    assert [format_age(a) for a in (None, 42, 185, 7830)] == ["never", "42s", "3m05s", "2h10m"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_at(request.param, tmp_path) as (opened, _):
        yield opened


def test_heartbeats_register_the_cluster_and_a_new_leader_is_audited(store: Store) -> None:
    times = iter([NOW, NOW + timedelta(seconds=30), NOW + timedelta(seconds=60)])
    clock = iter([0.0, 1.0, 40.0, 80.0])
    a = Heartbeat(store, "prod", "collector-a", interval_s=30, clock=lambda: next(clock), now=lambda: next(times))
    assert a.beat_if_due()  # first beat: registers
    assert not a.beat_if_due()  # 1 s later: not due
    assert a.beat_if_due()
    b = Heartbeat(store, "prod", "collector-b", interval_s=30, now=lambda: next(times))
    assert b.beat()  # the other replica took over the Lease
    (view,) = store.list_clusters()
    assert view.name == "prod" and view.leader == "collector-b"
    assert view.last_heartbeat is not None and view.last_heartbeat.replace(tzinfo=UTC) == NOW + timedelta(seconds=60)
    kinds = [entry.kind for entry in store.audit_log()]
    assert kinds.count("cluster.registered") == 1 and kinds.count("cluster.leader") == 1


def test_a_store_that_cannot_be_reached_costs_a_beat_not_the_collector() -> None:
    unreachable = Store.open("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2", migrate=False)
    telemetry = Telemetry()
    beat = Heartbeat(unreachable, "prod", "collector-a", interval_s=30, telemetry=telemetry)
    assert not beat.beat() and beat.failures == 1
    errors = telemetry.registry.get_sample_value("aetherius_errors_total", {"component": "registry",
                                                                            "kind": "StoreUnavailable"})  # fmt: skip
    assert errors == 1
    unreachable.close()


def aeth_clusters(data_dir: Path, *args: str, stale_after_s: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AETH_DATA_DIR": str(data_dir), "AETH_STALE_AFTER_S": str(stale_after_s)}
    env.pop("AETH_DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "aetherius.cli.main", "clusters", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_aeth_clusters_shows_the_services_heartbeat_and_marks_silent_clusters_stale(
    kube: FakeKube, kube_settings: Settings, tmp_path: Path
) -> None:
    store = Store.open(Settings(data_dir=tmp_path).sqlalchemy_url)
    assert "No cluster has registered yet" in aeth_clusters(tmp_path).stdout
    old = datetime.now(UTC) - timedelta(minutes=10)
    Heartbeat(store, "staging", "collector-old", interval_s=30, now=lambda: old).beat()  # its collector went away
    settings = kube_settings.model_copy(update={"cluster_name": "prod", "collector_identity": "collector-a",
                                                "lease_duration_s": 2, "lease_renew_deadline_s": 1.5,
                                                "lease_retry_s": 0.1, "metrics_port": None})  # fmt: skip
    reader = ClusterReader.from_settings(settings, timeout_s=5.0)
    service = CollectorService(reader, lambda detection: None, settings, store)
    thread = threading.Thread(target=service.run, name="service")
    thread.start()
    try:
        assert wait_until(lambda: service.heartbeat is not None and service.heartbeat.beats >= 1)
    finally:
        service.stop()
        thread.join(30)
        reader.close()
        store.close()
    rows = {
        row["name"]: row for row in map(json.loads, aeth_clusters(tmp_path, "--format", "json").stdout.splitlines())
    }
    assert set(rows) == {"prod", "staging"}
    assert rows["prod"]["leader"] == "collector-a" and rows["prod"]["stale"] is False
    assert rows["staging"]["stale"] is True and rows["staging"]["age_s"] >= 600
    text = aeth_clusters(tmp_path).stdout
    assert "staging" in text and "stale" in text and "collector-a" in text
    later = json.loads(aeth_clusters(tmp_path, "-f", "json", stale_after_s=0).stdout.splitlines()[0])
    assert later["name"] == "prod" and later["stale"] is True  # the same heartbeat, judged with a zero limit

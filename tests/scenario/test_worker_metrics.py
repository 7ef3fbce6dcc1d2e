"""A real prefork ``aeth worker`` serves its operational metrics: each pool process on its own port."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from aetherius.incidents import IncidentState
from aetherius.settings import Settings
from collectors.storms import StormControl
from tasks.app import make_celery
from tasks.enqueuing import CeleryEnqueuer
from tasks.intake import Intake
from tests.fakes import wait_until
from tests.scenario.test_pipeline_parts import (
    RedisServer,
    WorkerProcess,
    crash_snapshot,
    detection,
    free_port,
    store_at,
    worker_env,
)

pytest_plugins = ["tests.scenario.test_pipeline_parts"]
pytestmark = [pytest.mark.scenario, pytest.mark.slow, pytest.mark.timeout(180)]


def scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def total(text: str, series: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{re.escape(series)}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def test_pool_processes_export_queue_and_diagnosis_latency_for_the_work_they_did(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    port = free_port()
    with store_at("sqlite", tmp_path) as (store, url):
        env = worker_env(tmp_path, redis_server.url, url, AETH_METRICS_PORT=str(port))
        worker = WorkerProcess(env, tmp_path / "worker.log", ("--concurrency", "2")).start()
        celery = make_celery(Settings(broker_url=redis_server.url, data_dir=tmp_path))
        try:
            intake = Intake(store, CeleryEnqueuer(celery), StormControl(1000, 60.0))
            for n, workload in enumerate(("api", "cart", "search")):
                intake.hand_over(
                    detection(workload, version=str(n)), crash_snapshot(f"{workload}-7d9f8c6b5-x2k4q"), None
                )
            notified = lambda: [i.state for i in store.list_incidents()] == [IncidentState.NOTIFIED] * 3  # noqa: E731
            assert wait_until(notified, timeout=90, interval=0.2), worker.log()[-3000:]

            pool = [port + 1, port + 2]
            assert wait_until(lambda: all(scrape(p) for p in pool), timeout=10), worker.log()[-3000:]
            texts = [scrape(p) for p in pool]
            assert sum(total(t, "aetherius_diagnosis_latency_seconds_count") for t in texts) == 3
            assert sum(total(t, 'aetherius_queue_latency_seconds_count{queue="analyze"}') for t in texts) >= 3
            assert "aetherius_errors_total" in texts[0] and scrape(port)  # the main process serves too
        finally:
            worker.kill()
            celery.close()

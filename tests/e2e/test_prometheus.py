"""Metric capture queries a real Prometheus that scrapes a small exporter this test starts."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collectors.prometheus import PrometheusSource, PrometheusUnavailable, capture_metrics
from tests.e2e.peers import binary, free_port, running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


class Exporter(BaseHTTPRequestHandler):
    """cAdvisor-like series for one pod whose memory climbs on every scrape."""

    scrapes = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        Exporter.scrapes += 1
        labels = 'namespace="shop",pod="cart-7d9f8c6b5-x2k4q",container="cart"'
        memory = 100_000_000 + Exporter.scrapes * 10_000_000
        body = (
            f"container_memory_working_set_bytes{{{labels}}} {memory}\n"
            f"container_cpu_cfs_periods_total{{{labels}}} {Exporter.scrapes * 100}\n"
            f"container_cpu_cfs_throttled_periods_total{{{labels}}} {Exporter.scrapes * 80}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_capture_reads_the_pod_series_from_a_real_prometheus(tmp_path: Path) -> None:
    exe = binary("prometheus")
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: exporter
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:{exporter.server_address[1]}"]
""")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        exe,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    try:
        with running(cmd, f"{url}/-/ready", tmp_path / "prom.log"):
            source = PrometheusSource(url)
            deadline = time.monotonic() + 30
            series: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                series, skipped = capture_metrics(
                    source, "shop", "cart-7d9f8c6b5-x2k4q", "", end=time.time(), window_s=60, step_s=1
                )
                memory = [s for s in series if s["metric"]["__name__"] == "container_memory_working_set_bytes"]
                if memory and len(memory[0]["values"]) >= 3:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"Prometheus never returned 3 samples: {series}")
            assert skipped == []
            values = [float(v) for _, v in memory[0]["values"]]
            assert values == sorted(values) and values[-1] > values[0]
            assert {s["metric"]["__name__"] for s in series} >= {
                "container_cpu_cfs_periods_total",
                "container_cpu_cfs_throttled_periods_total",
            }
    finally:
        exporter.shutdown()


def test_an_unreachable_prometheus_is_a_temporary_error_and_the_capture_records_the_skip() -> None:
    source = PrometheusSource(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    with pytest.raises(PrometheusUnavailable):
        source.query_range("up", 0, 60, 15)
    series, skipped = capture_metrics(source, "shop", "p", "n", end=time.time())
    assert series == [] and len(skipped) == 12

"""``aeth collect`` (watch a cluster, feed the Celery queues) and ``aeth run`` (everything in one process).

``collect`` is the scaled-out collector: the `CollectorService` (Lease leader election, heartbeats, metrics) runs
the watcher; each detection is captured (`CapturingSink`) and handed to the `Intake`, which stores it and
enqueues the incident's id on the broker.

``run`` is the embedded mode for one small cluster: the same watcher, capture and intake, an Alertmanager webhook
receiver, and the in-process queue running the same stage functions the workers run, drawing threads on the
console. State lives in ``AETH_DATA_DIR`` (SQLite). Both stop cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from aetherius.cli.pipeline_wiring import build_intake, celery_enqueuer, embedded_pipeline, open_store
from aetherius.cli.snapshot import Context, Kubeconfig, one_line, with_cluster
from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from collectors.alerts.receiving import AlertReceiver
from collectors.kube import CapturingSink, ClusterReader, Watcher
from collectors.prometheus import PrometheusSource
from collectors.service import CollectorService
from collectors.telemetry import process_telemetry
from tasks.intake import Intake
from tasks.reconciling import Reconciler

log = logging.getLogger("aetherius.run")


def _on_signals(stop: Callable[[], None]) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop())


def _sink(settings: Settings, reader: ClusterReader, intake: Intake) -> CapturingSink:
    prometheus = PrometheusSource(settings.prometheus_url) if settings.prometheus_url else None
    return CapturingSink(reader, intake.hand_over, prometheus=prometheus, tail_lines=settings.log_tail_lines)


def collect(ctx: typer.Context, kubeconfig: Kubeconfig = None, context: Context = None) -> None:
    """Watch one cluster and enqueue its incidents for the workers (with Lease leader election)."""
    settings = with_cluster(ctx.obj, kubeconfig, context)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        store = open_store(settings)
        _, enqueue = celery_enqueuer(settings)
        reader = ClusterReader.from_settings(settings)
    except AetheriusError as err:
        sys.stderr.write(f"error: {one_line(err)}\n")
        raise typer.Exit(1) from None
    intake = build_intake(settings, store, enqueue)
    # the process's telemetry: the intake counts incidents opened into it, the service exports it
    service = CollectorService(reader, _sink(settings, reader, intake), settings, store, telemetry=process_telemetry())
    _on_signals(service.stop)
    sys.stderr.write(f"collecting cluster {settings.cluster_name} → {settings.broker_url}\n")
    try:
        service.run()
    finally:
        reader.close()
        sys.stderr.write(f"stopped; intake {intake.counters.as_dict()}\n")


def run(
    ctx: typer.Context,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    webhook: Annotated[bool, typer.Option(help="Serve the Alertmanager webhook (AETH_WEBHOOK_HOST/PORT).")] = True,
    rules_only: Annotated[bool, typer.Option(help="Diagnose by rules only (no similar-case model).")] = False,
) -> None:
    """Everything in one process for one small cluster: watch, capture, diagnose, and print threads."""
    settings = with_cluster(ctx.obj, kubeconfig, context)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        reader = ClusterReader.from_settings(settings)  # first: a bad kubeconfig should not wait for the model
        pipeline, queue = embedded_pipeline(settings, rules_only=rules_only)
    except AetheriusError as err:
        sys.stderr.write(f"error: {one_line(err)}\n")
        raise typer.Exit(1) from None
    intake = build_intake(settings, pipeline.store, queue)
    queue.start()
    Reconciler(pipeline.store, queue, interval_s=settings.reconcile_interval_s).run_once()  # what a restart left
    watcher = Watcher.from_settings(reader, _sink(settings, reader, intake), settings)
    receiver: AlertReceiver | None = None
    if webhook:
        address = (settings.webhook_host, settings.webhook_port)
        try:
            receiver = AlertReceiver(
                address, intake.receive_alerts, token=settings.webhook_token, cluster=settings.cluster_name
            )
        except OSError as err:
            sys.stderr.write(f"error: cannot serve the webhook on {address[0]}:{address[1]}: {one_line(err)}\n")
            raise typer.Exit(1) from None
        threading.Thread(target=receiver.serve_forever, name="aeth-webhook", daemon=True).start()
    _on_signals(watcher.stop)
    where = f", Alertmanager webhook on {receiver.url}/alertmanager" if receiver else ""
    sys.stderr.write(f"aeth run: watching cluster {settings.cluster_name}{where}; data in {settings.data_dir}\n")
    try:
        watcher.run()
    finally:
        if receiver is not None:
            receiver.shutdown()
        queue.wait_idle(10.0)
        queue.stop()
        reader.close()
        sys.stderr.write(f"stopped; watch {watcher.counters.as_dict()}; intake {intake.counters.as_dict()}\n")

"""``aeth worker``: a Celery worker for the pipeline's stage queues, with the store reconciler beside it, run under a
small supervisor that restarts it whenever it exits (`aetherius.cli.supervise`).

The worker process installs how its pool processes build their `Pipeline` (`tasks.runtime`), starts the
reconciler (its first pass re-enqueues every incident waiting in the store, so a broker that lost its queue or a
worker killed mid-task costs time, not incidents), then hands the process to Celery.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from celery.signals import worker_process_init

from aetherius.cli.pipeline_wiring import celery_enqueuer, open_store, retry_policy, worker_factory
from aetherius.settings import Settings
from collectors.telemetry import MetricsExporter, process_telemetry
from tasks import runtime
from tasks.reconciling import Reconciler
from tasks.routing import QUEUES

log = logging.getLogger(__name__)


def export_metrics(settings: Settings, pool: str) -> None:
    """``/metrics`` for the worker: on ``AETH_METRICS_PORT`` for a threads/solo pool; with prefork each pool process
    keeps its own counters, so process N of the pool serves them on port + 1 + N (its pool index, reused when a
    process is replaced) and the main process, on the port itself, serves its own (the reconciler's errors)."""
    port = settings.metrics_port
    if port is None:
        return
    _serve_metrics(settings.metrics_host, port)
    if pool != "prefork":
        return

    def in_pool_process(**_: object) -> None:
        from billiard.process import current_process  # type: ignore[import-untyped]

        _serve_metrics(settings.metrics_host, port + 1 + int(getattr(current_process(), "index", 0)))

    worker_process_init.connect(in_pool_process, weak=False)


def _serve_metrics(host: str, port: int) -> None:
    try:
        MetricsExporter(process_telemetry(), host, port).start()
    except OSError as err:  # a port in use costs the metrics, never the worker
        log.warning("metrics exporter on %s:%d not started: %s", host, port, err)


def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="Comma-separated stage queues to consume.")] = ",".join(QUEUES),
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (or threads).")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads or solo.")] = "prefork",
    rules_only: Annotated[bool, typer.Option(help="Diagnose by rules only (no similar-case model).")] = False,
    reconcile: Annotated[bool, typer.Option(help="Re-enqueue incidents stuck in the store.")] = True,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    supervise: Annotated[
        bool, typer.Option(help="Restart the Celery worker whenever it exits (e.g. after a broker restart).")
    ] = True,
) -> None:
    """Run a Celery worker for the capture, analyze, notify and remediate queues (broker: AETH_BROKER_URL)."""
    settings: Settings = ctx.obj
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown or not wanted:
        raise typer.BadParameter(f"unknown queue(s) {unknown or queues!r}; choose from {', '.join(QUEUES)}")
    if pool not in ("prefork", "threads", "solo"):
        raise typer.BadParameter(f"unknown pool {pool!r}; choose prefork, threads or solo", param_hint="--pool")
    del supervise  # acted on by the entry point (aetherius.cli.main) before this command runs
    store = open_store(settings)  # migrates once here, before the pool processes start
    runtime.install(worker_factory(settings, rules_only=rules_only))
    celery, enqueue = celery_enqueuer(settings)
    if settings.slack_bot_token:  # the answers to /aeth, buttons and reactions post to Slack
        from aetherius.cli.slack_tasks import register_slack_tasks  # console-only workers need no slack_sdk

        register_slack_tasks(celery, settings, retry_policy(settings))
    if reconcile:
        Reconciler(store, enqueue, interval_s=settings.reconcile_interval_s).start()
    export_metrics(settings, pool)
    argv = ["worker", "-Q", ",".join(wanted), "-c", str(concurrency), "-P", pool, "--loglevel", loglevel]
    celery.worker_main([*argv, "--without-gossip", "--without-mingle", "--without-heartbeat"])

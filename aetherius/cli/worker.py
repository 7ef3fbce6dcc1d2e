"""``aeth worker``: a Celery worker for the pipeline's stage queues, with the store reconciler beside it.

The worker process installs how its pool processes build their `Pipeline` (`tasks.runtime`), starts the
reconciler (its first pass re-enqueues every incident waiting in the store, so a broker that lost its queue or a
worker killed mid-task costs time, not incidents), then hands the process to Celery.
"""

from __future__ import annotations

from typing import Annotated

import typer

from aetherius.cli.pipeline_wiring import celery_enqueuer, open_store, retry_policy, worker_factory
from aetherius.settings import Settings
from tasks import runtime
from tasks.reconciling import Reconciler
from tasks.routing import QUEUES


def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="Comma-separated stage queues to consume.")] = ",".join(QUEUES),
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (or threads).")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads or solo.")] = "prefork",
    rules_only: Annotated[bool, typer.Option(help="Diagnose by rules only (no similar-case model).")] = False,
    reconcile: Annotated[bool, typer.Option(help="Re-enqueue incidents stuck in the store.")] = True,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run a Celery worker for the capture, analyze, notify and remediate queues (broker: AETH_BROKER_URL)."""
    settings: Settings = ctx.obj
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown or not wanted:
        raise typer.BadParameter(f"unknown queue(s) {unknown or queues!r}; choose from {', '.join(QUEUES)}")
    if pool not in ("prefork", "threads", "solo"):
        raise typer.BadParameter(f"unknown pool {pool!r}; choose prefork, threads or solo", param_hint="--pool")
    store = open_store(settings)  # migrates once here, before the pool processes start
    runtime.install(worker_factory(settings, rules_only=rules_only))
    celery, enqueue = celery_enqueuer(settings)
    if settings.slack_bot_token:  # the answers to /aeth, buttons and reactions post to Slack
        from aetherius.cli.slack_tasks import register_slack_tasks  # console-only workers need no slack_sdk

        register_slack_tasks(celery, settings, retry_policy(settings))
    if reconcile:
        Reconciler(store, enqueue, interval_s=settings.reconcile_interval_s).start()
    argv = ["worker", "-Q", ",".join(wanted), "-c", str(concurrency), "-P", pool, "--loglevel", loglevel]
    celery.worker_main([*argv, "--without-gossip", "--without-mingle", "--without-heartbeat"])

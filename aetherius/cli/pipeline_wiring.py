"""Composition of the incident pipeline from one Settings: store, engine, notifier, enqueuer, intake, capture.

Two shapes share every part but the queue:

- scaled out: ``aeth collect`` / ``aeth serve`` build an `Intake` whose enqueuer publishes to Celery, and
  ``aeth worker`` installs a per-process `Pipeline` factory (`tasks.runtime`) for the Celery tasks;
- embedded: ``aeth run`` builds one `Pipeline` whose enqueuer is the in-process queue running the same stages.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from aetherius.cli.wiring import build_engine
from aetherius.errors import AccessDenied
from aetherius.settings import Settings
from aetherius.snapshots import Snapshot
from aetherius.store import Store
from bot.notifying import ConsoleNotifier, Notifier
from collectors.kube import ClusterReader, capture
from collectors.prometheus import PrometheusSource
from collectors.storms import StormControl
from tasks.app import make_celery
from tasks.embedded import InProcessQueue
from tasks.enqueuing import CeleryEnqueuer, Enqueuer
from tasks.intake import Intake
from tasks.policy import RetryPolicy
from tasks.stages import Diagnose, Pipeline, PodCapture


def open_store(settings: Settings) -> Store:
    """The state store named by the settings (SQLite in the data dir unless ``AETH_DATABASE_URL``), migrated."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.sqlalchemy_url)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(max_retries=settings.task_max_retries, base_s=settings.task_retry_base_s)


def storm_control(settings: Settings) -> StormControl:
    return StormControl(settings.storm_threshold, settings.storm_window_s)


class ClusterCapture:
    """`PodCapture` for the cluster these settings can reach; other clusters' pods cannot be captured from here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._reader: ClusterReader | None = None
        self._lock = threading.Lock()

    def can_capture(self, cluster: str) -> bool:
        return cluster == self.settings.cluster_name

    def __call__(self, cluster: str, namespace: str, pod: str) -> Snapshot:
        if not self.can_capture(cluster):
            raise AccessDenied(f"this worker has no credentials for cluster {cluster!r}")
        with self._lock:
            if self._reader is None:
                self._reader = ClusterReader.from_settings(self.settings)
        s = self.settings
        prometheus = PrometheusSource(s.prometheus_url) if s.prometheus_url else None
        return capture(
            self._reader, namespace, pod, cluster=cluster, prometheus=prometheus, tail_lines=s.log_tail_lines
        )


def build_pipeline(
    settings: Settings,
    enqueue: Enqueuer,
    *,
    store: Store | None = None,
    notifier: Notifier | None = None,
    rules_only: bool = False,
    diagnose: Diagnose | None = None,
) -> Pipeline:
    reachable = settings.kubeconfig or settings.kube_context or os.environ.get("KUBERNETES_SERVICE_HOST")
    pod_capture: PodCapture | None = ClusterCapture(settings) if reachable else None
    return Pipeline(
        store=store or open_store(settings),
        diagnose=diagnose or build_engine(settings, with_cases=not rules_only).diagnose,
        notifier=notifier or ConsoleNotifier(),
        enqueue=enqueue,
        capture=pod_capture,
        tail_lines=settings.log_tail_lines,
        error_lines=settings.log_error_lines,
    )


def celery_enqueuer(settings: Settings) -> tuple[Any, CeleryEnqueuer]:
    celery = make_celery(settings, policy=retry_policy(settings))
    return celery, CeleryEnqueuer(celery)


def worker_factory(settings: Settings, *, rules_only: bool = False) -> Callable[[], Pipeline]:
    """What each worker process calls once to build its pipeline (after the fork)."""

    def build() -> Pipeline:
        _, enqueue = celery_enqueuer(settings)
        store = open_store(settings)
        return build_pipeline(
            settings, enqueue, store=store, notifier=worker_notifier(settings, store), rules_only=rules_only
        )

    return build


def worker_notifier(settings: Settings, store: Store) -> Notifier:
    """Slack when a bot token is configured (``aetherius.cli.slack_wiring``), else the console."""
    if not settings.slack_bot_token:
        return ConsoleNotifier()
    from aetherius.cli.slack_wiring import slack_notifier  # imported late: console-only workers need no slack_sdk

    return slack_notifier(settings, store)


def embedded_pipeline(
    settings: Settings, *, notifier: Notifier | None = None, rules_only: bool = False
) -> tuple[Pipeline, InProcessQueue]:
    """``aeth run``: one pipeline whose queue runs the stages in this process."""
    holder: list[Pipeline] = []
    queue = InProcessQueue(lambda: holder[0], retry_policy(settings))
    holder.append(build_pipeline(settings, queue, notifier=notifier, rules_only=rules_only))
    return holder[0], queue


def build_intake(settings: Settings, store: Store, enqueue: Enqueuer) -> Intake:
    cluster_capture = ClusterCapture(settings)
    return Intake(store, enqueue, storm_control(settings), can_capture=cluster_capture.can_capture)

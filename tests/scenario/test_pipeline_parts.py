"""Parts the pipeline scenario tests share: real stores (SQLite file, a fresh PostgreSQL database), an own
``redis-server`` on a spare port that a test may kill and restart, a real ``aeth worker`` process, and builders of
detections. (A module of helpers and fixtures, named so that only the pipeline tests' owner touches it.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import URL, make_url

from aetherius.snapshots import Snapshot
from aetherius.store import IncidentView, Store
from bot.notifying import Posted
from bot.threads import Thread
from collectors.kube.detecting import Detection
from knowledge.loading import to_snapshot
from tests import builders
from tests.fakes import wait_until

PG_ADMIN = os.environ.get("AETH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[2]
SEEN = datetime(2025, 3, 2, 10, 14, tzinfo=UTC)


# --- stores ---------------------------------------------------------------------------------------------------


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards; skips (saying why) when there is no server."""
    admin = make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    name = f"aeth_pipe_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL not reachable at {admin.render_as_string()}: {str(err).strip().splitlines()[0]}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def store_at(backend: str, tmp_path: Path) -> Iterator[tuple[Store, str]]:
    """``(store, url)`` on ``sqlite`` (a file under ``tmp_path``) or ``postgresql`` (a fresh database)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'aetherius.db'}"
        store = Store.open(url)
        try:
            yield store, url
        finally:
            store.close()
        return
    with postgres_database() as url:
        store = Store.open(url)
        try:
            yield store, url
        finally:
            store.close()


# --- redis and the worker -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """Our own ``redis-server`` (no persistence, like the machine's): killing it loses every queued message."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        assert wait_until(lambda: _pings(client), timeout=10), "redis-server did not start"
        client.close()
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server); the Celery tests need their own")
    server = RedisServer().start()
    yield server
    server.kill()


@dataclass
class WorkerProcess:
    """``aeth worker`` as a real process (its own session, so a kill takes its pool processes too)."""

    env: dict[str, str]
    log_path: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "aetherius.cli.main", "worker", "--rules-only", "--loglevel", "INFO"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, *self.args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def worker_env(data_dir: Path, broker_url: str, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETH_")}
    env.update(
        AETH_DATA_DIR=str(data_dir), AETH_BROKER_URL=broker_url, AETH_DATABASE_URL=database_url,
        AETH_TASK_RETRY_BASE_S="0.2", AETH_RECONCILE_INTERVAL_S="1.5", AETH_TASK_VISIBILITY_TIMEOUT_S="30",
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    env.update(extra)
    return env


# --- detections and snapshots ---------------------------------------------------------------------------------


def detection(
    workload: str = "api", *, pod: str = "", namespace: str = "shop", family: str = "crash", version: str = "1"
) -> Detection:
    pod = pod or f"{workload}-7d9f8c6b5-x2k4q"
    return Detection(
        cluster="test", namespace=namespace, pod=pod, workload_kind="Deployment", workload_name=workload,
        family=family, reason="CrashLoopBackOff", message="back-off 5m0s restarting failed container=api",
        seen_at=SEEN, source="pod", subject=f"Pod/{namespace}/{pod}", resource_version=version,
    )  # fmt: skip


def crash_snapshot(pod: str = "api-7d9f8c6b5-x2k4q", namespace: str = "shop") -> Snapshot:
    subject = builders.pod(pod, namespace, statuses=[builders.crashlooping(exit_code=1)])
    log = builders.log("Traceback (most recent call last):\nKeyError: 'DATABASE_URL'\n")
    log["pod"], log["namespace"] = pod, namespace
    doc = builders.snapshot(subject, logs=[log])
    return to_snapshot(doc)


class RecordingNotifier:
    """A `Notifier` that remembers what it was asked to do (the console and Slack ones have tests of their own)."""

    def __init__(self) -> None:
        self.posted: list[int] = []
        self.updated: list[int] = []
        self.resolved: list[tuple[int, str]] = []
        self.threads: dict[int, Thread] = {}

    def post_incident(self, incident: IncidentView, thread: Thread) -> Posted:
        self.posted.append(incident.id)
        self.threads[incident.id] = thread
        return Posted("#incidents", f"{time.time():.6f}-{incident.id}")

    def update_incident(self, incident: IncidentView, thread: Thread, posted: Posted) -> Posted:
        self.updated.append(incident.id)
        self.threads[incident.id] = thread
        return posted

    def resolve_incident(self, incident: IncidentView, posted: Posted, reason: str) -> None:
        self.resolved.append((incident.id, reason))


def states(store: Store) -> dict[int, str]:
    return {i.id: str(i.state) for i in store.list_incidents(limit=10_000)}


def as_kwargs(**kwargs: Any) -> dict[str, Any]:
    return kwargs

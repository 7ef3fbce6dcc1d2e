"""An event storm through the collector logic and the real queue: nothing lost, one incident per problem.

Storm phase: 50,000 watch events (pod status updates and counting BackOff events) about 500 crash-looping pods of
50 Deployments in 2 namespaces go through the collector's `Tracker` (detection + dedup), the `Intake` hand-over
(fingerprint, `StormControl`, SQLite `Store`, snapshot) and `CeleryEnqueuer` onto our own ``redis-server``, where a
real ``aeth worker`` (prefork, 2 processes, rules-only diagnosis) captures nothing (the snapshot came with the
detection), diagnoses and notifies (console, to a file).

Latency phase: new failing workloads arrive at a sustained 20 new incidents/s (each with 9 more watch events that
must be deduplicated); event→diagnosed and event→notified are measured from the hand-over to the transition
timestamps the worker writes.

floor  = the same hand-over + diagnose + save, in this process with no queue (median of 20)
ratio  = queued event→diagnosed p50 / floor p50: what the queue and the worker hop cost

Events lost = watch events the Tracker did not account for + detections the store did not record + incidents that
never reached ``diagnosed``. Must be 0.

Usage: python benchmarks/storm.py [--quick] [--events N] [--rate R] [--new N] [--storm-threshold N] [--json]
(``--storm-threshold 100000`` turns roll-ups off, so every incident is notified and event→notified is measured.)
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import report  # noqa: E402
from rich.console import Console  # noqa: E402

from aetherius.incidents import IncidentState  # noqa: E402
from aetherius.settings import Settings  # noqa: E402
from aetherius.snapshots import LogExcerpt, Snapshot, SnapshotMeta  # noqa: E402
from aetherius.store import Store  # noqa: E402
from aetherius.store.views import DUPLICATES, OCCURRENCES  # noqa: E402
from bot.notifying import ConsoleNotifier  # noqa: E402
from collectors.kube.tracking import Tracker  # noqa: E402
from collectors.storms import StormControl  # noqa: E402
from knowledge.engine import DiagnosisEngine  # noqa: E402
from tasks import stages  # noqa: E402
from tasks.app import make_celery  # noqa: E402
from tasks.enqueuing import CeleryEnqueuer  # noqa: E402
from tasks.intake import Intake  # noqa: E402
from tasks.stages import Pipeline  # noqa: E402

CLUSTER = "bench"
HASH = "7d9f8c6b5"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_object(namespace: str, deploy: str, n: int, restarts: int, version: int, now: datetime) -> dict[str, Any]:
    name = f"{deploy}-{HASH}-p{n:03d}"
    status = {
        "name": "app",
        "ready": False,
        "restartCount": restarts,
        "started": False,
        "state": {
            "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=app"}
        },
        "lastState": {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": iso(now - timedelta(seconds=40)),
                "finishedAt": iso(now - timedelta(seconds=30)),
            }
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "resourceVersion": str(version),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deploy}-{HASH}", "controller": True}
            ],
        },
        "spec": {
            "containers": [{"name": "app", "image": f"registry.example.com/{deploy}:1.0"}],
            "nodeName": "worker-1",
            "restartPolicy": "Always",
        },
        "status": {"phase": "Running", "conditions": [], "containerStatuses": [status]},
    }


def backoff_event(pod: dict[str, Any], count: int, version: int, now: datetime) -> dict[str, Any]:
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.backoff",
            "namespace": meta["namespace"],
            "uid": f"ev-{meta['uid']}",
            "resourceVersion": str(version),
        },
        "involvedObject": {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"]},
        "reason": "BackOff",
        "message": f"Back-off restarting failed container app in pod {meta['name']}",
        "type": "Warning",
        "count": count,
        "firstTimestamp": iso(now - timedelta(minutes=5)),
        "lastTimestamp": iso(now),
    }


def snapshot_of(pod: dict[str, Any], now: datetime) -> Snapshot:
    meta = pod["metadata"]
    log = LogExcerpt(
        namespace=meta["namespace"],
        pod=meta["name"],
        container="app",
        previous=True,
        text="Traceback (most recent call last):\nKeyError: 'DATABASE_URL'\n",
    )
    return Snapshot(
        metadata=SnapshotMeta.model_validate({"name": meta["name"], "cluster": CLUSTER, "capturedAt": now}),
        objects=[pod, backoff_event(pod, 5, 0, now)],
        logs=[log],
    )


class Feed:
    """Watch events through the Tracker; detections (with their snapshot) through the Intake."""

    def __init__(self, intake: Intake) -> None:
        self.tracker = Tracker(cluster=CLUSTER, now=lambda: datetime.now(UTC))
        self.intake = intake
        self.version = 0
        self.handed: dict[str, float] = {}  # workload → wall time of its first hand-over
        self.sink_errors = 0

    def observe(self, kind: str, obj: dict[str, Any]) -> None:
        detection = self.tracker.observe(kind, "MODIFIED", obj)
        if detection is None:
            return
        pod = (
            obj
            if kind == "pods"
            else pod_object(detection.namespace, detection.workload_name, 0, 1, 0, detection.seen_at)
        )
        self.handed.setdefault(f"{detection.namespace}/{detection.workload_name}", time.time())
        try:
            self.intake.hand_over(detection, snapshot_of(pod, detection.seen_at), None)
        except Exception as err:  # counted, and visible in the table as lost if the store lost it too
            self.sink_errors += 1
            print(f"hand-over failed: {err}", file=sys.stderr)

    def pod_events(self, namespace: str, deploy: str, n: int, events: int) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        now = datetime.now(UTC)
        for i in range(events):
            self.version += 1
            pod = pod_object(namespace, deploy, n, 1 + i // 2, self.version, now)
            out.append(("pods", pod) if i % 2 == 0 else ("events", backoff_event(pod, 1 + i // 2, self.version, now)))
        return out


def worker_rss_kib(pgid: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pgid:  # field 5 (pgrp), after the comm field
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def wait_for(predicate: Any, timeout: float, sample: Any = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sample:
            sample()
        if predicate():
            return True
        time.sleep(0.25)
    return bool(predicate())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def floor_latency(tmp: Path, samples: int = 20) -> float:
    """Hand-over + analyze in-process, no queue: what a diagnosis costs before any transport."""
    store = Store.open(f"sqlite:///{tmp / 'floor.db'}")
    jobs: list[tuple[str, dict[str, Any]]] = []
    engine = DiagnosisEngine(None, None)
    intake = Intake(store, lambda task, kwargs: jobs.append((task, kwargs)), StormControl(10_000, 60.0))
    quiet = ConsoleNotifier(Console(file=io.StringIO()))
    pipeline = Pipeline(store, engine.diagnose, quiet, enqueue=lambda task, kwargs: None)
    feed = Feed(intake)
    times = []
    for n in range(samples):
        start = time.perf_counter()
        for kind, obj in feed.pod_events("floor", f"f{n}", 0, 1):
            feed.observe(kind, obj)
        for _, kwargs in jobs:
            stages.analyze(pipeline, int(kwargs["incident_id"]))
        jobs.clear()
        times.append(time.perf_counter() - start)
    store.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 events over 50 pods; 40 new incidents")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=20.0, help="new incidents per second in the latency phase")
    parser.add_argument("--new", type=int, default=200, help="new incidents in the latency phase")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--storm-threshold", type=int, default=None, help="new incidents per namespace before a roll-up"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    deployments, pods_per = (10, 5) if args.quick else (50, 10)
    events = 5_000 if args.quick else args.events
    new = 40 if args.quick else args.new
    per_pod = events // (deployments * pods_per)

    tmp = Path(tempfile.mkdtemp(prefix="aeth-storm-"))
    print(f"work dir {tmp}", file=sys.stderr)
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    db_url = f"sqlite:///{tmp / 'aetherius.db'}"
    settings = Settings(broker_url=f"redis://127.0.0.1:{port}/0", data_dir=tmp, database_url=db_url)
    store = Store.open(db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETH_")}
    env.update(
        AETH_BROKER_URL=settings.broker_url,
        AETH_DATABASE_URL=db_url,
        AETH_DATA_DIR=str(tmp),
        AETH_RECONCILE_INTERVAL_S="10",
    )
    worker_log = (tmp / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aetherius.cli.main",
            "worker",
            "--rules-only",
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            os.environ.get("STORM_WORKER_LOGLEVEL", "WARNING"),
        ],
        env=env,
        cwd=ROOT,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    peak_rss = [0]

    def sample() -> None:
        peak_rss[0] = max(peak_rss[0], worker_rss_kib(worker.pid))

    celery = make_celery(settings)
    threshold = args.storm_threshold or settings.storm_threshold
    intake = Intake(store, CeleryEnqueuer(celery), StormControl(threshold, settings.storm_window_s))
    feed = Feed(intake)
    try:
        if not wait_for(lambda: bool(celery.control.ping(timeout=0.5)), timeout=60):
            raise SystemExit(f"the worker did not start; see {tmp / 'worker.log'}")
        floor = floor_latency(tmp)
        # --- storm phase: every pod's events, interleaved round-robin (a storm is everything at once)
        streams = [
            feed.pod_events(f"shop{d % 2}", f"svc{d:02d}", p, per_pod)
            for d in range(deployments)
            for p in range(pods_per)
        ]
        started = time.perf_counter()
        for i in range(per_pod):
            for stream in streams:
                feed.observe(*stream[i])
        storm_s = time.perf_counter() - started
        storm_events = feed.tracker.counters.received
        # --- latency phase: new failing workloads at a sustained rate, each with 9 repeat events
        latency_start = time.time()
        for n in range(new):
            due = latency_start + n / args.rate
            time.sleep(max(0.0, due - time.time()))
            for kind, obj in feed.pod_events(f"team{n % 20}", f"new{n:03d}", 0, 10):
                feed.observe(kind, obj)
            sample()
        achieved_rate = new / max(1e-9, time.time() - latency_start)

        incidents = store.list_incidents(limit=100_000)
        workloads = [i for i in incidents if i.family != "storm"]

        def diagnosed_all() -> bool:
            return all(store.get_incident(i.id).state is not IncidentState.OPEN for i in workloads)

        drained = wait_for(diagnosed_all, timeout=300, sample=sample)
        sample()
        final_rss = worker_rss_kib(worker.pid)
        incidents = store.list_incidents(limit=100_000)
        storms = [i for i in incidents if i.family == "storm"]
        workloads = [i for i in incidents if i.family != "storm"]
        latency_d, latency_n = [], []
        for incident in workloads:
            handed = feed.handed.get(f"{incident.namespace}/{incident.workload.split('/', 1)[1]}")
            if handed is None or not incident.namespace.startswith("team"):
                continue
            moves = {t.to_state: t.at.timestamp() for t in store.transitions(incident.id)}
            if IncidentState.DIAGNOSED in moves:
                latency_d.append(moves[IncidentState.DIAGNOSED] - handed)
            if IncidentState.NOTIFIED in moves:
                latency_n.append(moves[IncidentState.NOTIFIED] - handed)
        counters = store.counters()
        stored = counters.get((OCCURRENCES, CLUSTER), 0) + counters.get((DUPLICATES, CLUSTER), 0)
        tracker, taken = feed.tracker.counters, intake.counters
        unaccounted = tracker.received - (tracker.detected + tracker.deduplicated + tracker.filtered + tracker.noise)
        # every detection recorded by the intake, and every record (plus each storm membership) in the store
        unrecorded = (tracker.detected - taken.recorded) + abs(stored - taken.recorded - taken.storm_members)
        undiagnosed = sum(store.get_incident(i.id).state is IncidentState.OPEN for i in workloads)
        lost = unaccounted + unrecorded + undiagnosed
        pages = sum(1 for i in incidents if i.storm_id is None)
        expected = deployments + new
        rows = [
            (
                "events (storm + latency phases)",
                f"{tracker.received:,}",
                f"storm phase {storm_events:,} in {storm_s:.1f}s",
            ),
            (
                "detections → occurrences",
                f"{tracker.detected:,} → {taken.recorded:,}",
                f"deduplicated {tracker.deduplicated:,}, noise {tracker.noise:,}",
            ),
            (
                "incidents opened (workload × family)",
                f"{len(workloads)}",
                f"expected {expected} ({deployments} + {new} new)",
            ),
            (
                "storm roll-ups",
                f"{len(storms)}",
                f"{sum(1 for i in workloads if i.storm_id)} members; threads paged {pages}",
            ),
            (
                "events lost",
                f"{lost}",
                f"unaccounted {unaccounted}, unrecorded {unrecorded}, undiagnosed {undiagnosed}, drained {drained}",
            ),
            ("new incidents/s sustained", f"{achieved_rate:.1f}", f"target {args.rate:g}"),
            (
                "event→diagnosed p50 / p95",
                f"{percentile(latency_d, 0.5) * 1000:.0f} / {percentile(latency_d, 0.95) * 1000:.0f} ms",
                f"n={len(latency_d)}",
            ),
            (
                "event→notified p50 / p95",
                f"{percentile(latency_n, 0.5) * 1000:.0f} / {percentile(latency_n, 0.95) * 1000:.0f} ms",
                f"n={len(latency_n)}",
            ),
            (
                "floor (in-process hand-over+analyze) p50",
                f"{floor * 1000:.0f} ms",
                f"ratio {percentile(latency_d, 0.5) / floor:.1f}x",
            ),
            (
                "worker RSS (all processes) peak / end",
                f"{peak_rss[0] / 1024:.0f} / {final_rss / 1024:.0f} MiB",
                f"concurrency {args.concurrency}",
            ),
        ]
        report("storm", {label: f"{value}   ({note})" for label, value, note in rows}, as_json=args.json)
        if lost:
            sys.exit(1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        redis.kill()
        celery.close()
        store.close()


if __name__ == "__main__":
    main()

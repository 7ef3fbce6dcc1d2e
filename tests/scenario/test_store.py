"""The state store on real databases: a SQLite file and a PostgreSQL server, same tests, same answers.

PostgreSQL: one fresh database ``aeth_test_<random>`` per test session (created through the ``test`` database,
dropped at the end), tables emptied between tests; migration tests get a database of their own. The server is
``AETH_TEST_POSTGRES_URL`` (default: ``postgres`` on 127.0.0.1:5432, database ``test``); when it cannot be
reached, the PostgreSQL half is skipped and says why.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from aetherius.errors import ConfigurationError, IllegalTransition, StoreUnavailable, UnknownRecord
from aetherius.incidents import ACTIVE_STATES, IncidentState, fingerprint
from aetherius.store import Store, downgrade, make_engine, upgrade
from aetherius.store.engine import normalize_url
from aetherius.store.migrate import current_revision
from aetherius.store.models import VERSION_TABLE, Base
from aetherius.store.views import DUPLICATES, OCCURRENCES

pytestmark = [pytest.mark.scenario, pytest.mark.timeout(120)]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FP = fingerprint("prod", "shop", "Deployment/api", "crash")
S = IncidentState
R = TypeVar("R")
PG_ADMIN = os.environ.get("AETH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = sorted(Base.metadata.tables)


# --- backends -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin() -> URL:
    url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    try:
        psycopg.connect(_libpq(url), connect_timeout=3).close()
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL not reachable at {url.render_as_string()}: {str(err).strip().splitlines()[0]}")
    return url


@pytest.fixture(scope="session")
def pg_session_db(pg_admin: URL) -> Iterator[URL]:
    with _pg_database(pg_admin) as url:
        upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path}/data/aetherius.db")
    else:
        url: URL = request.getfixturevalue("pg_session_db")
        opened = Store(make_engine(url))
        with opened.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database that has never seen a migration."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh/aetherius.db"
        return
    with _pg_database(request.getfixturevalue("pg_admin")) as url:
        yield url.render_as_string(hide_password=False)


class _pg_database:
    def __init__(self, admin: URL) -> None:
        self.admin, self.name = admin, f"aeth_test_{secrets.token_hex(6)}"

    def __enter__(self) -> URL:
        self._run(f'CREATE DATABASE "{self.name}"')
        return self.admin.set(database=self.name)

    def __exit__(self, *exc: object) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _run(self, sql: str) -> None:
        with psycopg.connect(_libpq(self.admin), autocommit=True) as connection:
            connection.execute(sql.encode())


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# --- helpers --------------------------------------------------------------------------------------------------


def record(store: Store, key: str, *, fp: str = FP, at: datetime = T0, cluster: str = "prod") -> tuple[int, bool]:
    incident_id, created = store.record_occurrence(
        fingerprint=fp,
        cluster=cluster,
        namespace="shop",
        workload="Deployment/api",
        family="crash",
        source="pod_state",
        reason="CrashLoopBackOff",
        message="back-off restarting",
        dedup_key=key,
        seen_at=at,
    )
    return incident_id, created


def row_counts(store: Store, *tables: str) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def at_once(n: int, work: Callable[[int], R]) -> list[R]:
    """Run ``work(i)`` in ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: dict[int, R] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as err:  # collected here, re-raised in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    assert len(results) == n, "a thread did not finish in time"
    return [results[i] for i in range(n)]


def walk(store: Store, incident_id: int, *states: IncidentState) -> None:
    for i, state in enumerate(states):
        store.transition(incident_id, state, actor="tester", reason=f"step {i}", at=T0 + timedelta(minutes=i + 1))


# --- migrations -----------------------------------------------------------------------------------------------


def test_migrations_apply_from_scratch_match_the_models_and_are_idempotent(scratch_url: str) -> None:
    assert current_revision(scratch_url) is None
    upgrade(scratch_url)
    upgrade(scratch_url)
    assert current_revision(scratch_url) == "0001"
    engine = make_engine(scratch_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            checks = {c["name"] for c in inspect(connection).get_check_constraints("incidents")}
            assert checks == {"ck_incidents_state"}
            index = {i["name"]: i for i in inspect(connection).get_indexes("incidents")}[
                "uq_incidents_active_fingerprint"
            ]
            assert index["unique"]
    finally:
        engine.dispose()


def test_processes_migrating_at_the_same_moment_all_succeed(scratch_url: str) -> None:
    at_once(4, lambda _: upgrade(scratch_url))
    assert current_revision(scratch_url) == "0001"


def test_a_downgrade_to_base_and_an_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    assert current_revision(scratch_url) is None
    engine = make_engine(scratch_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
    finally:
        engine.dispose()
    store = Store.open(scratch_url)
    try:
        assert record(store, "k1") == (1, True)
    finally:
        store.close()


# --- occurrences and incidents --------------------------------------------------------------------------------


def test_recording_the_same_fingerprint_twice_gives_one_incident_with_two_occurrences(store: Store) -> None:
    first = record(store, "k1")
    second = record(store, "k2", at=T0 + timedelta(seconds=30))
    assert first == (first[0], True) and second == (first[0], False)
    incident = store.get_incident(first[0])
    assert incident.occurrences == 2 and incident.state is S.OPEN
    assert (incident.first_seen, incident.last_seen) == (T0, T0 + timedelta(seconds=30))
    assert [o.dedup_key for o in store.occurrences(first[0])] == ["k1", "k2"]
    assert [(t.from_state, t.to_state) for t in store.transitions(first[0])] == [(None, S.OPEN)]


def test_a_replayed_dedup_key_adds_nothing_and_is_counted_as_a_duplicate(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    assert record(store, "k1", at=T0 + timedelta(minutes=5)) == (incident_id, False)
    assert store.get_incident(incident_id).occurrences == 1
    assert row_counts(store, "occurrences", "incidents") == {"occurrences": 1, "incidents": 1}
    assert store.counters() == {(OCCURRENCES, "prod"): 1, (DUPLICATES, "prod"): 1}


def test_a_problem_back_after_resolution_opens_a_new_incident_linked_to_the_old_one(store: Store) -> None:
    old, _ = record(store, "k1")
    store.transition(old, S.RESOLVED, actor="collector", reason="pod healthy again")
    new, created = record(store, "k2", at=T0 + timedelta(hours=1))
    assert created and new != old
    assert store.get_incident(new).recurrence_of == old
    assert store.get_incident(old).state is S.RESOLVED and store.get_incident(old).occurrences == 1
    assert record(store, "k1") == (old, False), "a replay of the old incident's event re-opens nothing"
    assert [i.id for i in store.list_incidents(states=ACTIVE_STATES)] == [new]


def test_an_illegal_transition_raises_and_writes_nothing(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    before = row_counts(store, "transitions", "audit_log")
    with pytest.raises(IllegalTransition, match="cannot become remediating"):
        store.transition(incident_id, S.REMEDIATING, actor="tester")
    walk(store, incident_id, S.CLOSED)
    with pytest.raises(IllegalTransition, match="final"):
        store.transition(incident_id, S.OPEN, actor="tester")
    after = row_counts(store, "transitions", "audit_log")
    assert after == {k: v + 1 for k, v in before.items()}, "only the one legal move was written"
    assert store.get_incident(incident_id).state is S.CLOSED


def test_every_transition_writes_one_transition_row_and_one_audit_entry(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    path = [S.DIAGNOSED, S.NOTIFIED, S.REMEDIATING, S.NOTIFIED, S.RESOLVED, S.OPEN, S.CLOSED]
    walk(store, incident_id, *path)
    timeline = store.transitions(incident_id)
    assert [(t.from_state, t.to_state) for t in timeline] == list(
        zip([None, S.OPEN, *path[:-1]], [S.OPEN, *path], strict=True)
    )
    assert [t.reason for t in timeline[1:]] == [f"step {i}" for i in range(len(path))]
    moves = [a for a in store.audit_log(incident_id=incident_id) if a.kind == "incident.transition"]
    assert [(a.detail["from"], a.detail["to"]) for a in reversed(moves)] == [
        (t.from_state, t.to_state) for t in timeline[1:]
    ]
    closed = store.get_incident(incident_id)
    assert closed.resolved_at == T0 + timedelta(minutes=len(path))


def test_closing_a_resolved_incident_keeps_the_time_it_was_resolved(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    walk(store, incident_id, S.RESOLVED, S.CLOSED)
    assert store.get_incident(incident_id).resolved_at == T0 + timedelta(minutes=1)


def test_a_reopen_is_refused_while_another_incident_of_the_same_fault_is_active(store: Store) -> None:
    old, _ = record(store, "k1")
    walk(store, old, S.RESOLVED)
    new, _ = record(store, "k2")
    with pytest.raises(IllegalTransition, match=f"#{new} is active"):
        store.transition(old, S.OPEN, actor="alice", reason="not fixed")
    walk(store, new, S.CLOSED)
    assert store.transition(old, S.OPEN, actor="alice", reason="not fixed").resolved_at is None


def test_eight_workers_recording_a_new_fingerprint_at_once_open_exactly_one_incident(store: Store) -> None:
    url = store.engine.url
    stores = [Store(make_engine(url)) for _ in range(8)]
    try:
        results = at_once(8, lambda i: record(stores[i], f"k{i}"))
    finally:
        for s in stores:
            s.close()
    assert len({incident_id for incident_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    active = store.list_incidents(states=ACTIVE_STATES)
    assert len(active) == 1 and active[0].occurrences == 8
    assert len(store.occurrences(active[0].id)) == 8
    assert store.counters() == {(OCCURRENCES, "prod"): 8}


def test_eight_workers_resolving_one_incident_at_once_resolve_it_exactly_once(store: Store) -> None:
    incident_id, _ = record(store, "k1")

    def resolve(i: int) -> bool:
        try:
            store.transition(incident_id, S.RESOLVED, actor=f"worker-{i}")
        except IllegalTransition:
            return False
        return True

    assert sum(at_once(8, resolve)) == 1
    assert [t.to_state for t in store.transitions(incident_id)] == [S.OPEN, S.RESOLVED]


def test_times_come_back_timezone_aware_in_utc(store: Store) -> None:
    local = T0.astimezone(timezone(timedelta(hours=2)))
    incident_id, _ = record(store, "k1", at=local)
    seen = store.get_incident(incident_id).first_seen
    assert seen == T0 and seen.tzinfo == UTC


def test_list_incidents_filters_by_state_and_cluster_newest_first(store: Store) -> None:
    a, _ = record(store, "a", fp="fp-a")
    b, _ = record(store, "b", fp="fp-b", cluster="staging")
    c, _ = record(store, "c", fp="fp-c")
    walk(store, c, S.RESOLVED)
    assert [i.id for i in store.list_incidents()] == [c, b, a]
    assert [i.id for i in store.list_incidents(states=[S.OPEN])] == [b, a]
    assert [i.id for i in store.list_incidents(cluster="prod", limit=1)] == [c]


def test_an_unknown_incident_is_a_clear_permanent_error(store: Store) -> None:
    with pytest.raises(UnknownRecord, match="no incident #999"):
        store.transition(999, S.RESOLVED, actor="tester")
    with pytest.raises(UnknownRecord):
        store.audit(actor="U1", kind="command.ack", incident_id=999)
    with pytest.raises(UnknownRecord):
        store.save_diagnosis(999, category="unknown", confidence=0.1, summary="", payload={}, model="m", version="v")


# --- evidence, feedback, approvals, actions -------------------------------------------------------------------


def test_a_diagnosis_and_the_root_message_advance_the_incident_in_their_own_transactions(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    store.save_snapshot(incident_id, {"kind": "Snapshot", "objects": []}, captured_at=T0)
    diagnosis = store.save_diagnosis(
        incident_id,
        category="crash_loop",
        confidence=0.8,
        summary="app exits 1",
        payload={"evidence": ["x"]},
        model="rules",
        version="0.1.0",
        at=T0,
    )
    store.save_diagnosis(
        incident_id,
        category="config_error",
        confidence=0.9,
        summary="missing key",
        payload={},
        model="rules",
        version="0.1.0",
        at=T0,
    )
    store.record_notification(incident_id, channel="C1", kind="root", payload={}, message_ts="171.1", at=T0)
    store.record_notification(incident_id, channel="C1", kind="update", payload={}, message_ts="171.1", at=T0)
    incident = store.get_incident(incident_id)
    assert incident.state is S.NOTIFIED and incident.category == "config_error"
    assert (incident.slack_channel, incident.slack_ts) == ("C1", "171.1")
    assert [t.to_state for t in store.transitions(incident_id)] == [S.OPEN, S.DIAGNOSED, S.NOTIFIED]
    assert store.latest_snapshot(incident_id) == {"kind": "Snapshot", "objects": []}
    latest = store.latest_diagnosis(incident_id)
    assert latest is not None and latest.id == diagnosis.id + 1 and latest.category == "config_error"


def test_feedback_is_idempotent_per_incident_user_and_kind(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    assert store.add_feedback(incident_id, user="U1", kind="thumbs_up")
    assert not store.add_feedback(incident_id, user="U1", kind="thumbs_up")
    assert store.add_feedback(incident_id, user="U2", kind="thumbs_up")
    assert store.add_feedback(incident_id, user="U1", kind="correction", category="oom_killed")
    assert not store.add_feedback(incident_id, user="U1", kind="correction", category="oom_killed")
    assert store.add_feedback(incident_id, user="U1", kind="correction", category="config_error")
    assert [(f.user, f.kind, f.category) for f in store.feedback(incident_id)] == [
        ("U1", "thumbs_up", None),
        ("U2", "thumbs_up", None),
        ("U1", "correction", "config_error"),
    ]
    assert store.remove_feedback(incident_id, user="U2", kind="thumbs_up")
    assert not store.remove_feedback(incident_id, user="U2", kind="thumbs_up")
    with pytest.raises(ValueError, match="taxonomy category"):
        store.add_feedback(incident_id, user="U1", kind="correction", category="gremlins")


def test_concurrent_identical_feedback_is_stored_once(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    assert sum(at_once(6, lambda _: store.add_feedback(incident_id, user="U1", kind="thumbs_down"))) == 1
    assert len(store.feedback(incident_id)) == 1


def test_an_approval_authorises_one_run_and_a_double_click_changes_nothing(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    walk(store, incident_id, S.DIAGNOSED, S.NOTIFIED)
    ask: dict[str, Any] = {
        "action_id": "restart",
        "params": {"deployment": "api"},
        "requested_by": "bot",
        "approvers": ["U1"],
        "expires_at": T0 + timedelta(hours=1),
        "idempotency_key": "i-1",
        "at": T0,
    }
    approval = store.request_approval(incident_id, **ask)
    assert store.request_approval(incident_id, **ask) == approval and approval.status == "pending"
    approved = store.decide_approval(approval.id, approve=True, by="U1", at=T0 + timedelta(minutes=1))
    assert approved.status == "approved"
    assert store.decide_approval(approval.id, approve=True, by="U1") == approved
    with pytest.raises(IllegalTransition, match="already approved"):
        store.decide_approval(approval.id, approve=False, by="U2")
    run = store.start_action(incident_id, action_id="restart", params={}, actor="U1", approval_id=approval.id, at=T0)
    assert store.start_action(incident_id, action_id="restart", params={}, actor="U1", approval_id=approval.id) == run
    assert store.get_incident(incident_id).state is S.REMEDIATING
    done = store.finish_action(run.id, status="succeeded", actor="remediator", at=T0 + timedelta(minutes=2))
    assert done.status == "succeeded" and done.finished_at == T0 + timedelta(minutes=2)
    with pytest.raises(IllegalTransition, match="already ended"):
        store.finish_action(run.id, status="failed", actor="remediator")


def test_a_late_decision_expires_the_approval_and_it_authorises_nothing(store: Store) -> None:
    incident_id, _ = record(store, "k1")
    approval = store.request_approval(
        incident_id,
        action_id="restart",
        params={},
        requested_by="bot",
        approvers=[],
        expires_at=T0,
        idempotency_key="i-2",
        at=T0,
    )
    assert store.decide_approval(approval.id, approve=True, by="U1", at=T0 + timedelta(seconds=1)).status == "expired"
    with pytest.raises(IllegalTransition, match="does not authorise"):
        store.start_action(incident_id, action_id="restart", params={}, actor="U1", approval_id=approval.id)


# --- bookkeeping ----------------------------------------------------------------------------------------------


def test_heartbeats_register_a_cluster_keep_the_newest_time_and_audit_leader_changes(store: Store) -> None:
    store.upsert_cluster_heartbeat("prod", T0, "collector-a")
    store.upsert_cluster_heartbeat("prod", T0 + timedelta(seconds=30), "collector-b")
    store.upsert_cluster_heartbeat("prod", T0 + timedelta(seconds=10), "collector-b")  # late, out of order
    (cluster,) = store.list_clusters()
    assert (cluster.name, cluster.leader, cluster.last_heartbeat) == ("prod", "collector-b", T0 + timedelta(seconds=30))
    assert not cluster.stale(T0 + timedelta(seconds=60), after_s=120)
    assert cluster.stale(T0 + timedelta(minutes=5), after_s=120)
    assert [a.kind for a in store.audit_log()] == ["cluster.leader", "cluster.registered"]


def test_counters_dead_letters_and_free_audit_entries_are_kept(store: Store) -> None:
    at_once(4, lambda _: store.bump_counter("received", "prod", 5))
    store.bump_counter("filtered", "prod")
    assert store.counters() == {("received", "prod"): 20, ("filtered", "prod"): 1}
    letter = store.dead_letter("tasks.analyze", {"incident_id": 7}, "PermanentError: no pod", at=T0)
    assert [(d.id, d.task, d.payload) for d in store.dead_letters()] == [(letter, "tasks.analyze", {"incident_id": 7})]
    store.audit(actor="U1", kind="command.silence", detail={"minutes": 30}, at=T0)
    assert store.audit_log(limit=1)[0].detail == {"minutes": 30}


def test_a_bad_database_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a SQLAlchemy URL"):
        make_engine("not a url")
    with pytest.raises(ConfigurationError, match="not supported"):
        make_engine("mysql://db/aeth")
    assert normalize_url("postgres://u@db/aeth").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@db/aeth").drivername == "postgresql+psycopg"


def test_an_unreachable_server_is_a_temporary_error() -> None:
    with pytest.raises(StoreUnavailable, match="state store unavailable"):
        upgrade("postgresql://nobody@127.0.0.1:1/aeth?connect_timeout=2")

"""Transactions for the `Store`: one per operation, retried when a uniqueness race is lost, errors mapped.

Concurrency rests on the database, not on Python locks, because the writers are separate processes (collectors,
Celery workers, the Slack app):

- idempotency and "one active incident per fingerprint" are unique indexes; the loser of a race gets an
  ``IntegrityError``, and the whole operation is run again in a fresh transaction, where it now *sees* the
  winner's row and takes the "already there" path;
- a row that is read, checked and changed (an incident's state, its occurrence count) is read with
  ``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has a single writer at a time (``BEGIN IMMEDIATE``, see
  `engine`), which is the same guarantee for the whole file.

A database that cannot be reached (or stays locked past the busy timeout) raises `StoreUnavailable`, a
`TemporaryError`: the task retries with back-off.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from aetherius.errors import StoreUnavailable, UnknownRecord
from aetherius.store import models
from aetherius.store.engine import session_factory

T = TypeVar("T")
RETRIES = 8


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    """Session handling shared by the parts of `Store`; holds no state of its own beyond the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer: sessionmaker[Session] = session_factory(engine)
        self._reader: sessionmaker[Session] = session_factory(engine, read_only=True)

    def close(self) -> None:
        """Close the pooled connections (for tests and orderly shutdown)."""
        self.engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with self._reader() as session, session.begin():
                yield session
        except OperationalError as err:
            raise _unavailable(err) from err

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in its own write transaction; run it again if it loses a uniqueness race."""
        for attempt in range(RETRIES):
            try:
                with self._writer() as session, session.begin():
                    return work(session)
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # de-synchronise the losers
            except OperationalError as err:
                raise _unavailable(err) from err
        raise AssertionError("unreachable")

    @staticmethod
    def _incident(session: Session, incident_id: int, *, lock: bool = True) -> models.Incident:
        """The incident row, locked for this transaction on PostgreSQL; `UnknownRecord` when there is none."""
        query = select(models.Incident).where(models.Incident.id == incident_id)
        row = session.scalars(query.with_for_update() if lock else query).first()
        if row is None:
            raise UnknownRecord(f"no incident #{incident_id} in the state store")
        return row

    @staticmethod
    def _audit(
        session: Session, at: datetime, actor: str, kind: str, incident_id: int | None, detail: dict[str, Any]
    ) -> None:
        session.add(models.AuditLog(at=at, actor=actor, incident_id=incident_id, kind=kind, detail=detail))

    @staticmethod
    def _count(session: Session, name: str, cluster: str, n: int) -> None:
        """Add ``n`` to a counter inside the caller's transaction (a lost insert race retries the caller)."""
        where = (models.Counter.name == name) & (models.Counter.cluster == cluster)
        done = session.execute(update(models.Counter).where(where).values(value=models.Counter.value + n))
        if cast(CursorResult[Any], done).rowcount == 0:
            session.add(models.Counter(name=name, cluster=cluster, value=n))
            session.flush()


def _unavailable(err: OperationalError) -> StoreUnavailable:
    lines = str(err.orig).strip().splitlines()
    return StoreUnavailable(f"state store unavailable: {lines[0] if lines else type(err.orig).__name__}")

"""Engines and sessions for the state store: one SQLite file by default, PostgreSQL when scaled out.

SQLite needs care to be shared by a collector, a worker and the Slack app on one host:

- WAL journal, so readers never wait for the writer, and a busy timeout, so a writer waits for another writer
  instead of failing at once;
- write transactions start with ``BEGIN IMMEDIATE``. pysqlite's default (a deferred ``BEGIN`` before the first
  write) lets two writers both read, then one of them fail with "database is locked" on its first write, and
  no busy timeout helps there. Taking the write lock up front serialises writers instead. Read-only sessions
  (`session_factory` with ``read_only=True``) keep a plain deferred ``BEGIN``;
- foreign keys are off by default in SQLite; they are turned on.

PostgreSQL gets ``pool_pre_ping`` (connections dropped by a failover or an idle timeout are replaced, not
handed out). A ``postgresql://`` or ``postgres://`` URL uses psycopg 3, the driver Aetherius installs.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from aetherius.errors import ConfigurationError

BUSY_TIMEOUT_S = 30.0
_READ_ONLY = "aetherius_read_only"


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL and pick the installed driver; `ConfigurationError` when it cannot work."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("database URL is not a SQLAlchemy URL (e.g. sqlite:///path/aetherius.db)") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        backend = parsed.get_backend_name()
        raise ConfigurationError(f"database backend {backend!r} is not supported; use sqlite or postgresql")
    return parsed


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for the store at ``url``; for a SQLite file, its directory is created."""
    parsed = normalize_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, echo)
        return create_engine(parsed, pool_pre_ping=True, echo=echo)
    except NoSuchModuleError:
        raise ConfigurationError(f"no SQLAlchemy driver {parsed.drivername!r} is installed") from None


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (``expire_on_commit=False``), for building views."""
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own; _sqlite_on_begin does
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (it stays so). The switch needs the file to itself, and SQLite answers "database
    is locked" at once, without the busy timeout, while another process is switching or writing: wait here."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if err.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

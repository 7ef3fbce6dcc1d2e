"""Bring the state store's schema to the current revision, safely, from any process at start-up.

Every Aetherius process calls `upgrade` before it touches the store, so it must be idempotent (at head it does
nothing) and safe when a collector and three workers start at the same moment:

- PostgreSQL: a session-level ``pg_advisory_lock`` serialises the migrators; the migration itself runs in one
  transaction (PostgreSQL has transactional DDL), so a crash leaves the old schema, not half of the new one.
- SQLite: the whole run is one ``BEGIN IMMEDIATE`` transaction (see `engine`), which holds the file's write
  lock; the second process waits (busy timeout), then finds the schema at head.

The Alembic config is built in code with ``script_location`` next to this file, so it works from an installed
package and from any working directory; no ``alembic.ini`` is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from aetherius.errors import StoreUnavailable
from aetherius.store.engine import make_engine, normalize_url
from aetherius.store.models import VERSION_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK_KEY = 0x6165_7468_6572_6975
"""``"aetheriu"`` as a signed 64-bit ``bigint``: the one key every Aetherius migrator locks."""


def alembic_config(url: str | URL) -> Config:
    """An Alembic config for the store at ``url`` (also what ``command.revision(..., autogenerate=True)`` takes)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%': escape it, URL-encoded passwords are full of it.
    rendered = normalize_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the store at ``url`` up to ``revision``; a no-op when it is there already."""
    with _migrating(url) as (config, connection):
        command.upgrade(config, revision)


def downgrade(url: str | URL, revision: str = "base") -> None:
    """Migrate down (``base`` drops every table of the store). For tests and for rolling back a release."""
    with _migrating(url) as (config, connection):
        command.downgrade(config, revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the store at ``url`` is at; ``None`` for an empty database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except OperationalError as err:
        raise StoreUnavailable(f"state store unavailable: {str(err.orig).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


@contextmanager
def _migrating(url: str | URL) -> Iterator[tuple[Config, Connection]]:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection, _exclusive(engine, connection), connection.begin():
            config.attributes["connection"] = connection
            yield config, connection
    except OperationalError as err:
        raise StoreUnavailable(f"state store unavailable: {str(err.orig).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


@contextmanager
def _exclusive(engine: Engine, connection: Connection) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield  # SQLite: the BEGIN IMMEDIATE of the migration transaction is the lock
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    connection.commit()  # end the implicit transaction; the session-level lock stays held
    try:
        yield
    finally:
        # A dead connection has lost the lock already (PostgreSQL drops session locks with the session).
        with suppress(OperationalError):
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()

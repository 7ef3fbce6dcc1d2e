"""Alembic's entry point for the state store.

`aetherius.store.migrate` passes an open connection, already inside the transaction and holding the lock that
keeps two starting processes from migrating at once; this file then only runs the revisions in it. Run by
Alembic's own command line instead (with a config naming this directory and ``sqlalchemy.url``), it connects by
itself through `make_engine`, so SQLite still gets its ``BEGIN IMMEDIATE`` write lock.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from aetherius.store.engine import make_engine
from aetherius.store.models import VERSION_TABLE, Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """``alembic upgrade head --sql``: print the DDL for a DBA instead of running it."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic config and no connection given")
    engine = make_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            _configure(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

"""Alembic environment of the state store; `aetherius.store.migrate` drives it, no alembic.ini needed."""

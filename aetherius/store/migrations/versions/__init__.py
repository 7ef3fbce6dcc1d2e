"""Schema revisions, oldest first. Alembic skips this file when it scans for revisions."""

"""The SQL state store of the incident pipeline: SQLite in the data dir by default, PostgreSQL when scaled out.

``Store.open(settings.sqlalchemy_url)`` migrates the schema and returns the store; see `repository` for the
operations, `views` for what they return, `migrate` for schema upgrades.
"""

from aetherius.store.engine import make_engine, session_factory
from aetherius.store.migrate import downgrade, upgrade
from aetherius.store.repository import Store
from aetherius.store.views import IncidentView, Recorded

__all__ = ["IncidentView", "Recorded", "Store", "downgrade", "make_engine", "session_factory", "upgrade"]

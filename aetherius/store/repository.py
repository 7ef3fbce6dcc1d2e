"""`Store`: the one object the rest of Aetherius uses to read and change incident state.

It is assembled from one part per aggregate (incidents, evidence, decisions, bookkeeping) so that each module
stays small; all parts share the engine and the transaction rules of `aetherius.store.base`. Every public method
is one transaction and returns frozen views (`aetherius.store.views`).
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from aetherius.store.decisions import DecisionOps
from aetherius.store.engine import make_engine
from aetherius.store.evidence import EvidenceOps
from aetherius.store.migrate import upgrade
from aetherius.store.operations import OperationOps


class Store(EvidenceOps, DecisionOps, OperationOps):
    """The SQL state store over one engine. Thread-safe: share one per process.

    Engines do not survive ``fork()``: a Celery prefork worker opens its store in each child
    (``worker_process_init``), not in the parent.
    """

    @classmethod
    def open(cls, url: str | URL, *, migrate: bool = True) -> Store:
        """Connect to the store at ``url`` and (by default) bring its schema to the current revision first."""
        if migrate:
            upgrade(url)
        return cls(make_engine(url))
